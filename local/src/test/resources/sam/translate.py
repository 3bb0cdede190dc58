"""Prints the CloudFormation that AWS SAM's own translator (samtranslator, installed with cfn-lint) makes of a
SAM template: what `sam deploy` really creates, IAM roles with their expanded policy templates included.

Usage: python3 translate.py template.yaml > transformed.json
Local CodeUri values are replaced by an S3 URI first, as `sam package` does, since the translator only
accepts those; nothing is sent anywhere.
"""
import json
import os
import sys

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs by name; this template names none."""

    def load(self):
        return {}


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = json.loads(json.dumps(cfn_yaml.load(path)))
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and not str(properties.get("CodeUri", "")).startswith("s3://"):
            properties["CodeUri"] = "s3://packaged-by-sam/function.zip"
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    print(json.dumps(transform(template, pseudo, NoManagedPolicies()), indent=1, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
