"""Prints the authentication questions `sam deploy --guided` asks of a template, one JSON line per question.

The AWS SAM CLI cannot be installed here (no Python package registry), so this runs its check as written in
aws-sam-cli samcli/commands/deploy/auth_utils.py (auth_per_resource, _auth_resource_event, _auth_id,
_auth_definition_body_and_uri) and guided_context.py, which asks "<function> may not have authorization defined, Is this
okay?" once per Api/HttpApi event found without authentication. Intrinsics are resolved as SAM CLI's
IntrinsicsSymbolTable does for this purpose: a Ref to a resource becomes its logical id.

Usage: python3 guided_auth.py template.yaml
"""
import json
import sys

from cfnlint.decode import cfn_yaml

API_TYPES = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")
RAW_API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")


def resolve_ref(value):
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    return value


def auth_definition_body(body):
    # Any `security` on a path's operation, or at the top, counts (SAM CLI: "not exhaustive").
    auths = []
    for verb in (body or {}).get("paths", {}).values():
        for prop in verb.values():
            if isinstance(prop, dict):
                auths.append(bool(prop.get("security", False)))
    auths.append(bool((body or {}).get("security", False)))
    return any(auths)


def auth_id(resources, event_properties, identifier):
    api = resources.get(resolve_ref(event_properties.get(identifier, "")), {})
    if api and api.get("Type") in RAW_API_TYPES:
        return True
    props = api.get("Properties", {})
    return bool(props.get("Auth", False)) or auth_definition_body(props.get("DefinitionBody", {}))


def auth_per_resource(template):
    resources = template.get("Resources", {})
    result = []
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        for event in (props.get("Events") or {}).values():
            for event_type, identifier in (("Api", "RestApiId"), ("HttpApi", "ApiId")):
                if event.get("Type") == event_type:
                    properties = event.get("Properties", {})
                    if properties.get("Auth", False):
                        result.append((name, True))
                    elif auth_id(resources, properties, identifier):
                        result.append((name, True))
                    else:
                        result.append((name, False))
        if props.get("FunctionUrlConfig"):
            result.append((name + " Function Url", props["FunctionUrlConfig"].get("AuthType") != "NONE"))
    return result


def main(path):
    template = json.loads(json.dumps(cfn_yaml.load(path)))
    for resource, authenticated in auth_per_resource(template):
        print(json.dumps({"resource": resource, "authenticated": authenticated,
                          "asks": None if authenticated else f"{resource} may not have authorization defined, Is this okay?"}))


if __name__ == "__main__":
    main(sys.argv[1])
