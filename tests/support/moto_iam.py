"""Create an IAM user with an inline policy in the emulator and print its access key.

Usage: moto_iam.py ENDPOINT USER ACTIONS_JSON

The policy allows ACTIONS_JSON on Resource "*": the emulator's IAM enforcement checks
actions only (a resource-scoped Allow never matches there), so this proves that the
generated *actions* are sufficient; the resources are proved by policy_audit.py.
Prints "ACCESS_KEY_ID SECRET_ACCESS_KEY".
"""
import json
import sys

import boto3

endpoint, user, actions = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName="ecs-env", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
}))
key = iam.create_access_key(UserName=user)["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
