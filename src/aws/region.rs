//! The task region: `--region`, else `AWS_REGION`/`AWS_DEFAULT_REGION`, else the profile's
//! `region`, else, on an EC2 instance only, the instance's own region from instance metadata
//! (IMDSv2, `placement/region`): an EC2 development box then needs no region configured, as
//! the AWS CLI there needs none.
//!
//! The SDK's default chain asks instance metadata whenever nothing else names a region. Off
//! EC2 nothing answers, and the probe costs about 3 s of timeouts and retries (measured with
//! the metadata address unreachable) on every run of a laptop with no region configured. So
//! here metadata is asked only when the machine itself says, without a socket, that it is an
//! EC2 instance, or when `AWS_EC2_METADATA_SERVICE_ENDPOINT` names a metadata endpoint
//! explicitly. Never with `--offline` (no connection at all), and never with
//! `AWS_EC2_METADATA_DISABLED=true`, which the SDK honours too. On EC2 the lookup is bounded by
//! [`METADATA_BUDGET`]; a failure leaves the region unset, as before.
//!
//! How an instance is recognised (Linux only; elsewhere only the explicit endpoint turns the
//! lookup on): the firmware strings the kernel exposes under `/sys/devices/virtual/dmi/id`,
//! "Amazon EC2" as the vendor on Nitro instances and an "amazon" BIOS version on Xen ones, or
//! a Xen hypervisor UUID starting with "ec2". Inside a container these are the host's, which
//! is what is wanted: a container on an EC2 instance reaches the same metadata service,
//! unless the hop limit stops it, which the budget bounds.

use std::time::Duration;

use aws_config::Region;
use aws_config::meta::region::{ProvideRegion, RegionProviderChain, future};

use super::Settings;

/// The longest an instance metadata lookup may take. On EC2 the service answers in
/// milliseconds; from a container whose responses the hop limit drops, it never does.
const METADATA_BUDGET: Duration = Duration::from_secs(2);

/// The task region (docs/usage.md, "The task region"). A configuration given by the library
/// decides it, unless `--region` does.
pub(crate) async fn task_region(settings: &Settings) -> Option<String> {
    if let (None, Some(config)) = (&settings.region, &settings.sdk_config) {
        return config.region().map(|r| r.as_ref().to_owned());
    }
    chain(settings)
        .region()
        .await
        .map(|r| r.as_ref().to_owned())
}

/// The chain, also the SDK configuration's region provider.
pub(super) fn chain(settings: &Settings) -> RegionProviderChain {
    let mut profile = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = &settings.profile {
        profile = profile.profile_name(p);
    }
    let chain = RegionProviderChain::first_try(settings.region.clone().map(Region::new))
        .or_else(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .or_else(profile.build());
    if settings.offline {
        chain
    } else {
        chain.or_else(InstanceRegion)
    }
}

/// The instance's region, from instance metadata, where [`ask_metadata`] allows it.
#[derive(Debug)]
struct InstanceRegion;

impl ProvideRegion for InstanceRegion {
    fn region(&self) -> future::ProvideRegion<'_> {
        let env = |name| std::env::var(name).ok();
        if !ask_metadata(
            env("AWS_EC2_METADATA_DISABLED").as_deref(),
            env("AWS_EC2_METADATA_SERVICE_ENDPOINT").as_deref(),
            on_ec2,
        ) {
            return future::ProvideRegion::ready(None);
        }
        future::ProvideRegion::new(async {
            let client = aws_config::imds::Client::builder()
                .max_attempts(2)
                .connect_timeout(Duration::from_secs(1))
                .read_timeout(Duration::from_secs(1))
                .build();
            let provider = aws_config::imds::region::ImdsRegionProvider::builder()
                .imds_client(client)
                .build();
            let region = tokio::time::timeout(METADATA_BUDGET, provider.region())
                .await
                .ok()
                .flatten();
            tracing::debug!(?region, "the task region from EC2 instance metadata");
            region
        })
    }
}

/// Whether to ask instance metadata: not when disabled (as the SDK reads the variable); yes
/// when an endpoint is named explicitly; otherwise only on an EC2 instance.
fn ask_metadata(disabled: Option<&str>, endpoint: Option<&str>, on_ec2: fn() -> bool) -> bool {
    if disabled.is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return false;
    }
    endpoint.is_some_and(|e| !e.is_empty()) || on_ec2()
}

/// This machine says it is an EC2 instance, read from files: no socket, no delay.
#[cfg(target_os = "linux")]
fn on_ec2() -> bool {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    read("/sys/devices/virtual/dmi/id/sys_vendor") == "amazon ec2"
        || read("/sys/devices/virtual/dmi/id/board_vendor") == "amazon ec2"
        || read("/sys/devices/virtual/dmi/id/bios_version").contains("amazon")
        || read("/sys/hypervisor/uuid").starts_with("ec2")
}

/// No cheap, socket-free sign of EC2 here: only an explicit endpoint turns the lookup on.
#[cfg(not(target_os = "linux"))]
fn on_ec2() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_asked_only_on_ec2_or_when_named() {
        let yes = || true;
        let no = || false;
        // Off EC2, with nothing named: never (no probe, no delay).
        assert!(!ask_metadata(None, None, no));
        assert!(!ask_metadata(None, Some(""), no));
        assert!(ask_metadata(None, None, yes));
        assert!(ask_metadata(None, Some("http://127.0.0.1:9"), no));
        // Disabled wins, whatever the machine or the endpoint.
        assert!(!ask_metadata(Some("true"), None, yes));
        assert!(!ask_metadata(Some("TRUE"), Some("http://127.0.0.1:9"), yes));
        assert!(ask_metadata(Some("false"), None, yes));
    }
}
