# How `sam build` builds the two functions (template.yaml: CodeUri ".", Metadata BuildMethod: makefile).
# SAM copies this folder (less .git and .aws-sam) to a scratch folder and runs there, for each function,
#   make --makefile <this file> build-<LogicalId>     with ARTIFACTS_DIR set to that function's build folder.
# Each target makes a clean Maven build of its module (the scratch copy may hold stale target/ folders) and
# lays the shaded jar out as Lambda's Java runtimes read a deployment package: the jars of lib/ on the class
# path. The build is reproducible (project.build.outputTimestamp): the same source gives the same bytes, so a
# redeploy of unchanged code publishes no new version and takes no new SnapStart snapshot.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
MVN := mvn -B -ntp -q

.PHONY: build-BeaconFunction build-ReconcilerFunction

build-BeaconFunction:
	$(call package,functions/beacon,beacon)

build-ReconcilerFunction:
	$(call package,functions/reconciler,reconciler)

# $(1): the function's Maven module; $(2): its jar's name.
define package
	@test -n "$${ARTIFACTS_DIR:-}" || { echo "ARTIFACTS_DIR is not set: sam build sets it (see the top of this Makefile)" >&2; exit 2; }
	. local/bin/java-env && echo "Building $(2) with the JDK 25 at $$JAVA_HOME" && $(MVN) clean package -DskipTests -pl $(1) -am
	mkdir -p "$$ARTIFACTS_DIR/lib"
	cp $(1)/target/$(2).jar "$$ARTIFACTS_DIR/lib/$(2).jar"
endef
