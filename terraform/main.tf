# The platform on AWS: one Docker host (EC2) running the compose stack, RDS PostgreSQL
# for the warehouse and Dagster's storage, an S3 landing zone, secrets in SSM.
#
#   network.tf          VPC, one public subnet, two private subnets, flow logs
#   security_groups.tf  who may talk to the host and to the database
#   compute.tf          the Docker host and its boot configuration
#   database.tf         RDS PostgreSQL 15
#   storage.tf          the landing bucket and its access-log bucket
#   secrets.tf          generated passwords and the SSM parameters the host reads
#   iam.tf              instance role (this bucket, these parameters) and service roles
#   kms.tf              the customer-managed key behind every encrypted resource

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Exactly the two zones named by var.availability_zones: the set never changes when
# AWS opens a new zone in the region.
data "aws_availability_zones" "selected" {
  state = "available"

  filter {
    name   = "zone-name"
    values = [for suffix in var.availability_zones : "${var.aws_region}${suffix}"]
  }
}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = sort(data.aws_availability_zones.selected.names)

  # Every parameter under this path becomes one variable of the host's .env.
  ssm_path = "/${var.project}/${var.environment}"

  # Every role created here carries this permissions boundary, a policy that
  # ./bootstrap creates (bootstrap/boundary.tf) and the deploy role cannot change: it is
  # also the only kind of role the deploy role may create.
  workload_boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${var.project}-workload-boundary"

  landing_bucket_name = "${local.name}-landing-${local.account_id}"
  landing_url         = "s3://${aws_s3_bucket.landing.bucket}/${var.landing_prefix}"

  db_name         = "txn"
  dagster_db_name = "dagster"
  db_username     = "txn"
}
