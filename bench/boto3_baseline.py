"""Baseline (b): a straightforward sequential boto3 script.

    python boto3_baseline.py REFS.json COMMAND [ARGS...]

One client per service and region, one `get_secret_value` per secret reference (a JSON key
is picked out with json.loads), one `get_parameters` per ten parameter names of a region,
then exec of the command with the values in its environment. No threads, no caching: what
someone writes in ten minutes. The endpoint comes from AWS_ENDPOINT_URL.
"""

import json
import os
import sys

import boto3


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    command = sys.argv[2:]
    env = dict(os.environ)
    env.update(spec.get("overrides", {}))
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    clients = {}

    def client(service, region):
        if (service, region) not in clients:
            clients[service, region] = boto3.client(
                service, region_name=region, endpoint_url=endpoint
            )
        return clients[service, region]

    for s in spec["secrets"]:
        out = client("secretsmanager", s["region"]).get_secret_value(SecretId=s["secret_id"])
        value = out["SecretString"]
        if s.get("json_key"):
            value = str(json.loads(value)[s["json_key"]])
        env[s["variable"]] = value
    for batch in spec["parameter_batches"]:
        out = client("ssm", batch["region"]).get_parameters(
            Names=batch["names"], WithDecryption=True
        )
        values = {p["Name"]: p["Value"] for p in out["Parameters"]}
        for variable, name in zip(batch["variables"], batch["names"]):
            env[variable] = values[name]
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main()
