//! One client per service and region, built on first use: an ARN's region decides where it
//! is read, as on ECS, and every regional client shares the one configuration (and so the
//! credentials resolved once).

use std::collections::HashMap;

use aws_config::{Region, SdkConfig};

/// A service client that can be built for one region of a configuration.
pub(super) trait RegionalClient: Clone {
    /// `path_style`: address S3 buckets by path (an emulator or private endpoint has no
    /// per-bucket host names); other services ignore it.
    fn build(config: &SdkConfig, region: &str, path_style: bool) -> Self;
}

/// The clients of one service, by region.
pub(super) struct Clients<C> {
    config: SdkConfig,
    path_style: bool,
    by_region: HashMap<String, C>,
}

impl<C: RegionalClient> Clients<C> {
    pub(super) fn new(config: &SdkConfig, path_style: bool) -> Self {
        Clients {
            config: config.clone(),
            path_style,
            by_region: HashMap::new(),
        }
    }

    /// The client for `region`.
    pub(super) fn get(&mut self, region: &str) -> C {
        self.by_region
            .entry(region.to_owned())
            .or_insert_with(|| C::build(&self.config, region, self.path_style))
            .clone()
    }
}

impl super::Session {
    /// A client for one read outside the fetch (a Terraform state, a lookup): in `region`,
    /// else the configured one, else us-east-1; the region comes back too, for messages.
    pub(super) fn client_in<C: RegionalClient>(&self, region: Option<&str>) -> (String, C) {
        let region = region
            .map(str::to_owned)
            .or_else(|| self.config.region().map(ToString::to_string))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let client = C::build(&self.config, &region, self.custom_endpoint);
        (region, client)
    }
}

/// [`RegionalClient`] for services addressed by region alone (all but S3).
macro_rules! regional {
    ($($sdk:ident),*) => {$(
        impl RegionalClient for $sdk::Client {
            fn build(config: &SdkConfig, region: &str, _: bool) -> Self {
                let conf = $sdk::config::Builder::from(config)
                    .region(Region::new(region.to_owned()))
                    .build();
                Self::from_conf(conf)
            }
        }
    )*};
}

// IAM is global: its endpoint rules send every region of a partition to the one endpoint.
regional!(
    aws_sdk_secretsmanager,
    aws_sdk_ssm,
    aws_sdk_iam,
    aws_sdk_kms
);

impl RegionalClient for aws_sdk_s3::Client {
    fn build(config: &SdkConfig, region: &str, path_style: bool) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(config)
            .region(Region::new(region.to_owned()))
            .force_path_style(path_style)
            .build();
        Self::from_conf(conf)
    }
}
