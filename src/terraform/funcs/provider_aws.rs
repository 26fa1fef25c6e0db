//! The AWS provider's own functions (`provider::aws::arn_build`, `arn_parse`,
//! `trim_iam_role_path`), which task definitions use to write ARNs.
//!
//! Each is the provider's (5.40 and later) as it documents and implements it: an ARN is
//! split with the AWS SDK's rule (`arn:` then five `:`-separated sections, the last one the
//! rest of the text) and joined back the same way. The provider cannot be installed offline,
//! so these are not in the recorded vectors; the unit tests below follow the provider's
//! documented examples and its errors' conditions.

use std::collections::BTreeMap;

use super::{Func, Ret, err, s, string};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::pure("provider::aws::arn_build", 5, 5, arn_build),
    Func::pure("provider::aws::arn_parse", 1, 1, arn_parse),
    Func::pure(
        "provider::aws::trim_iam_role_path",
        1,
        1,
        trim_iam_role_path,
    ),
];

/// An ARN's sections: partition, service, region, account, resource.
fn split(arn: &str) -> Result<[&str; 5], super::FnError> {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return err("the ARN does not start with `arn:`");
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    match parts.as_slice() {
        [p, s, r, a, res] => Ok([p, s, r, a, res]),
        _ => err("the ARN has fewer than 6 sections"),
    }
}

fn join(parts: [&str; 5]) -> String {
    format!("arn:{}", parts.join(":"))
}

fn arn_build(a: &[Value]) -> Ret {
    let names = [
        "the partition",
        "the service",
        "the region",
        "the account id",
        "the resource",
    ];
    let mut parts = Vec::with_capacity(5);
    for (v, what) in a.iter().zip(names) {
        parts.push(string(v, what)?);
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    Ok(s(join([parts[0], parts[1], parts[2], parts[3], parts[4]])))
}

fn arn_parse(a: &[Value]) -> Ret {
    let arn = string(&a[0], "the ARN")?;
    let [partition, service, region, account, resource] = split(&arn)?;
    let fields = [
        ("partition", partition),
        ("service", service),
        ("region", region),
        ("account_id", account),
        ("resource", resource),
    ];
    Ok(Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), s(v)))
            .collect::<BTreeMap<_, _>>(),
    ))
}

fn trim_iam_role_path(a: &[Value]) -> Ret {
    let arn = string(&a[0], "the ARN")?;
    let [partition, service, region, account, resource] = split(&arn)?;
    if service != "iam" {
        return err("the ARN's service must be \"iam\"");
    }
    if !region.is_empty() {
        return err("the ARN's region must be empty");
    }
    if !resource.starts_with("role/") {
        return err("the ARN's resource must begin with \"role/\"");
    }
    let name = resource.rsplit('/').next().unwrap_or_default();
    let role = format!("role/{name}");
    Ok(s(join([partition, service, region, account, &role])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Ret) -> String {
        v.unwrap().to_str().unwrap()
    }

    fn json(v: Value) -> serde_json::Value {
        serde_json::from_str(&v.to_json().unwrap()).unwrap()
    }

    #[test]
    fn arns_are_built_parsed_and_trimmed_as_the_provider_does() {
        let build: Vec<Value> = ["aws", "iam", "", "444455556666", "role/example"]
            .into_iter()
            .map(s)
            .collect();
        assert_eq!(
            text(arn_build(&build)),
            "arn:aws:iam::444455556666:role/example"
        );
        let parsed = arn_parse(&[s("arn:aws:iam::444455556666:role/example")]).unwrap();
        assert_eq!(
            json(parsed),
            serde_json::json!({"partition": "aws", "service": "iam", "region": "",
                "account_id": "444455556666", "resource": "role/example"})
        );
        // The resource is the rest, colons and all.
        let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::";
        let parsed = json(arn_parse(&[s(secret)]).unwrap());
        assert_eq!(parsed["resource"], "secret:db-AbCdEf:password::");
        for bad in ["aws:iam::1:role/x", "arn:aws:iam:1", ""] {
            assert!(arn_parse(&[s(bad)]).is_err(), "{bad}");
        }
        assert_eq!(
            text(trim_iam_role_path(&[s(
                "arn:aws:iam::444455556666:role/with/path/example"
            )])),
            "arn:aws:iam::444455556666:role/example"
        );
        assert_eq!(
            text(trim_iam_role_path(&[s(
                "arn:aws:iam::444455556666:role/example"
            )])),
            "arn:aws:iam::444455556666:role/example"
        );
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:444455556666:role/x",
            "arn:aws:iam::444455556666:user/x",
        ] {
            assert!(trim_iam_role_path(&[s(bad)]).is_err(), "{bad}");
        }
    }
}
