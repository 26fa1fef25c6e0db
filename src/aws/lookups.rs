//! The reads `terraform plan` makes for data sources, made the same way and read-only, each
//! answering with the attributes Terraform would show (`terraform::Lookup`). An error is
//! AWS's reason, classified; it never holds a value.

use serde_json::{Value as Json, json};

use super::Session;
use super::error::classify;

impl Session {
    /// `data "aws_secretsmanager_secret"`: `secretsmanager:DescribeSecret` by ARN or name.
    pub(crate) async fn secret_attributes(
        &self,
        id: &str,
        region: Option<&str>,
    ) -> Result<Json, String> {
        let client: aws_sdk_secretsmanager::Client = self.client_in(region).1;
        let out = client
            .describe_secret()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| classify(&e).message)?;
        Ok(json!({
            "arn": out.arn(),
            "id": out.arn(),
            "name": out.name(),
            "description": out.description(),
            "kms_key_id": out.kms_key_id(),
        }))
    }

    /// `data "aws_secretsmanager_secret_version"`: `secretsmanager:GetSecretValue`.
    pub(crate) async fn secret_version_attributes(
        &self,
        id: &str,
        version_id: Option<&str>,
        version_stage: Option<&str>,
        region: Option<&str>,
    ) -> Result<Json, String> {
        let client: aws_sdk_secretsmanager::Client = self.client_in(region).1;
        // As the provider: the stage defaults to AWSCURRENT when no version is named.
        let stage = match (version_id, version_stage) {
            (None, None) => Some("AWSCURRENT"),
            (_, stage) => stage,
        };
        let out = client
            .get_secret_value()
            .secret_id(id)
            .set_version_id(version_id.map(str::to_owned))
            .set_version_stage(stage.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify(&e).message)?;
        let version = version_id.or(stage).unwrap_or_default();
        let mut attrs = json!({
            "arn": out.arn(),
            "id": format!("{id}|{version}"),
            "secret_id": id,
            "secret_string": out.secret_string(),
            "version_id": out.version_id(),
            "version_stage": stage,
            "version_stages": out.version_stages(),
        });
        // The provider shows the binary as a string; one that is not text is left out.
        if let Some(binary) = out.secret_binary()
            && let Ok(text) = std::str::from_utf8(binary.as_ref())
        {
            attrs["secret_binary"] = Json::String(text.to_owned());
        }
        Ok(attrs)
    }

    /// `data "aws_ssm_parameter"`: `ssm:GetParameter`, decrypted unless `with_decryption` is
    /// false.
    pub(crate) async fn parameter_attributes(
        &self,
        name: &str,
        decrypt: bool,
        region: Option<&str>,
    ) -> Result<Json, String> {
        let client: aws_sdk_ssm::Client = self.client_in(region).1;
        let out = client
            .get_parameter()
            .name(name)
            .with_decryption(decrypt)
            .send()
            .await
            .map_err(|e| classify(&e).message)?;
        let Some(p) = out.parameter() else {
            return Err("the answer holds no parameter".to_owned());
        };
        let kind = p.r#type().map(|t| t.as_str().to_owned());
        let mut attrs = json!({
            "arn": p.arn(),
            "id": p.name(),
            "name": p.name(),
            "type": kind,
            "value": p.value(),
            "version": p.version(),
        });
        // The provider offers the value unmarked only where it is not a SecureString.
        if kind.as_deref() != Some("SecureString") {
            attrs["insecure_value"] = json!(p.value());
        }
        Ok(attrs)
    }

    /// `data "aws_iam_role"` (or a managed role by its `name`): `iam:GetRole`.
    pub(crate) async fn role_attributes(
        &self,
        name: &str,
        region: Option<&str>,
    ) -> Result<Json, String> {
        let client: aws_sdk_iam::Client = self.client_in(region).1;
        let out = client
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| classify(&e).message)?;
        let Some(role) = out.role() else {
            return Err("the answer holds no role".to_owned());
        };
        Ok(json!({
            "arn": role.arn(),
            "id": role.role_name(),
            "name": role.role_name(),
            "path": role.path(),
            "unique_id": role.role_id(),
            "description": role.description(),
            "max_session_duration": role.max_session_duration(),
            "create_date": role
                .create_date()
                .fmt(aws_sdk_iam::primitives::DateTimeFormat::DateTime)
                .ok(),
        }))
    }

    /// `data "aws_kms_alias"` (or a managed alias by its `name`): `kms:DescribeKey` of the
    /// alias, which answers with the key it points at. The provider lists aliases for the
    /// alias's own ARN; an alias lives in its key's account and region, so the key's ARN gives
    /// it, one call fewer.
    pub(crate) async fn kms_alias_attributes(
        &self,
        name: &str,
        region: Option<&str>,
    ) -> Result<Json, String> {
        let client: aws_sdk_kms::Client = self.client_in(region).1;
        let out = client
            .describe_key()
            .key_id(name)
            .send()
            .await
            .map_err(|e| classify(&e).message)?;
        let Some(key) = out.key_metadata() else {
            return Err("the answer holds no key".to_owned());
        };
        let key_arn = key.arn().unwrap_or_default();
        let Some(parsed) = crate::arn::Arn::of(key_arn) else {
            return Err(format!("the answer's key ARN `{key_arn}` is not an ARN"));
        };
        let alias_arn = crate::arn::Arn {
            resource: name,
            ..parsed
        }
        .to_string();
        Ok(json!({
            "arn": alias_arn,
            "id": alias_arn,
            "name": name,
            "target_key_arn": key_arn,
            "target_key_id": key.key_id(),
        }))
    }
}
