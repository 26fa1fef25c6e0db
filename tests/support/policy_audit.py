"""Independent checks of a policy written by `ecs-env policy`.

Usage: policy_audit.py POLICY_JSON_FILE GRANTS_JSON

GRANTS_JSON is {"must": [[action, arn], ...], "must_not": [[action, arn], ...]}.

1. parliament (AWS's action/resource catalogue) must report no findings.
2. Every (action, arn) in "must" is matched by a resource of a statement granting that
   action, and no (action, arn) in "must_not" is, under IAM's wildcard rules (`*` any run of
   characters, `?` exactly one; everything else literal, case-sensitive). fnmatchcase
   implements exactly those two wildcards once `[` is escaped.
Prints a report and exits 1 on any failure.
"""
import fnmatch
import json
import sys

import parliament


def iam_match(pattern: str, arn: str) -> bool:
    return fnmatch.fnmatchcase(arn, pattern.replace("[", "[[]"))


def granted(policy: dict, action: str, arn: str) -> bool:
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if st["Effect"] == "Allow" and any(iam_match(a, action) for a in actions):
            if any(iam_match(r, arn) for r in resources):
                return True
    return False


def main() -> int:
    text = open(sys.argv[1]).read()
    grants = json.loads(sys.argv[2])
    policy = json.loads(text)
    failures = []
    findings = parliament.analyze_policy_string(text).findings
    for f in findings:
        failures.append(f"parliament: {f.issue} {f.detail} {f.location}")
    for action, arn in grants["must"]:
        if not granted(policy, action, arn):
            failures.append(f"not granted: {action} on {arn}")
    for action, arn in grants["must_not"]:
        if granted(policy, action, arn):
            failures.append(f"granted but must not be: {action} on {arn}")
    print(f"parliament findings: {len(findings)}; checked {len(grants['must'])} required and {len(grants['must_not'])} forbidden grants")
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
