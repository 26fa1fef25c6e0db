"""Create an IAM role in the emulator that trusts one principal, with an inline policy.

Usage: moto_role.py ENDPOINT ROLE TRUSTED_PRINCIPAL_ARN ACTIONS_JSON

The trust policy allows TRUSTED_PRINCIPAL_ARN to call sts:AssumeRole (the emulator's IAM
enforcement compares the caller's ARN with it exactly); the inline policy allows
ACTIONS_JSON on Resource "*" (the enforcement checks actions only). Prints the role's ARN.
"""
import json
import sys

import boto3

endpoint, role, trusted, actions = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}],
}))["Role"]["Arn"]
if actions:
    iam.put_role_policy(RoleName=role, PolicyName="ecs-env", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }))
print(arn)
