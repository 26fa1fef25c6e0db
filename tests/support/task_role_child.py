"""The command under `ecs-env --task-role`: what its AWS SDK (boto3) sees and does.

Usage: task_role_child.py OUT_JSON

Writes to OUT_JSON: the caller identity STS reports for the SDK's default credentials, the
credential provider boto3 chose, the credential and endpoint variables in its environment,
the secret access key it was given (for the test's leak check), and the HTTP status the
credentials endpoint answers without a token and with a wrong one.
"""
import json
import os
import sys
import urllib.error
import urllib.request

import boto3

VARIABLES = [
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "NO_PROXY", "APP",
]


def status(headers):
    request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


session = boto3.session.Session()
credentials = session.get_credentials()
frozen = credentials.get_frozen_credentials()
out = {
    "identity": session.client("sts").get_caller_identity()["Arn"],
    "method": credentials.method,
    "env": {name: os.environ.get(name) for name in VARIABLES},
    "token_is_set": bool(os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")),
    "secret_access_key": frozen.secret_key,
    "no_token": status({}),
    "wrong_token": status({"Authorization": "not-the-token"}),
}
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
