data "aws_iam_policy_document" "ecs_env_execution_role" {
  statement {
    sid       = "ReadSecrets"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/shared-??????",
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/sidecar-??????",
    ]
  }
  statement {
    sid       = "ReadParameters"
    effect    = "Allow"
    actions   = ["ssm:GetParameters"]
    resources = [
      "arn:aws:ssm:eu-west-1:123456789012:parameter/legacy/token",
      "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/prod/shared",
      "arn:aws:ssm:us-east-1:123456789012:parameter/prod/api-key",
    ]
  }
  statement {
    sid       = "ReadEnvironmentFiles"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [
      "arn:aws:s3:::config-bucket/app.env",
    ]
  }
  statement {
    sid       = "LocateEnvironmentFileBuckets"
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation"]
    resources = [
      "arn:aws:s3:::config-bucket",
    ]
  }
}
