# How `sam build` builds the two functions (template.yaml: CodeUri ".", Metadata BuildMethod: makefile). For each
# function SAM runs, with ARTIFACTS_DIR set to that function's build folder,
#   make --makefile <this file> build-<LogicalId>
# in this folder with `sam build --build-in-source` (the way README and docs/samconfig.example.toml build), or,
# without that option, in a scratch copy of this folder less .git and .aws-sam (web/node_modules and every target/
# copied again for each function: slower, same bytes).
# Each target makes a clean Maven build of its module in a fresh folder of its own (pom.xml's sam-build profile
# moves every module's target/ there), so it neither reads stale classes nor cleans the target/ folders of the
# tree it runs in (a developer's, or those of a test suite running there), and lays the shaded jar out as Lambda's
# Java runtimes read a deployment package: the jars of lib/ on the class path. The build is reproducible
# (project.build.outputTimestamp): the same source gives the same bytes, so a redeploy of unchanged code
# publishes no new version and takes no new SnapStart snapshot.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
MVN := mvn -B -ntp -q

.PHONY: build-BeaconFunction build-ReconcilerFunction

build-BeaconFunction:
	$(call package,functions/beacon,backstop-beacon,beacon)

build-ReconcilerFunction:
	$(call package,functions/reconciler,backstop-reconciler,reconciler)

# $(1): the function's Maven module; $(2): its artifactId; $(3): its jar's name.
define package
	@test -n "$${ARTIFACTS_DIR:-}" || { echo "ARTIFACTS_DIR is not set: sam build sets it (see the top of this Makefile)" >&2; exit 2; }
	build="$$(mktemp -d)"; trap 'rm -rf "$$build"' EXIT; \
	. local/bin/java-env; echo "Building $(3) with the JDK 25 at $$JAVA_HOME"; \
	$(MVN) package -DskipTests -Dsam.build.dir="$$build" -pl $(1) -am; \
	mkdir -p "$$ARTIFACTS_DIR/lib"; \
	cp "$$build/$(2)/$(3).jar" "$$ARTIFACTS_DIR/lib/$(3).jar"
endef
