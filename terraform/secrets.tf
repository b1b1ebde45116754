# Secrets are generated here and stored only as SSM SecureString parameters under
# local.ssm_path. The host reads them at boot with its instance role (txn-render-env);
# they never appear in user data, outputs or variable defaults. Terraform state holds
# them too, so the state bucket is encrypted and access to it is restricted.

resource "random_password" "db" {
  length = 40
  # Alphanumeric only: the password is embedded in TXN_DATABASE_URL without escaping.
  special = false
}

# The API refuses to start in production without a key, and txn-render-env refuses to
# write a .env without one: it is generated here, never chosen by hand.
resource "random_password" "api_key" {
  length  = 48
  special = false
}

locals {
  # Parameter name = variable name in the host's .env. TLS to RDS (PGSSLMODE=verify-full,
  # PGSSLROOTCERT) is not a parameter: txn-render-env writes it itself, so that no
  # parameter can weaken it.
  host_parameters = {
    TXN_DATABASE_URL        = "postgresql://${local.db_username}:${random_password.db.result}@${aws_db_instance.main.address}:${aws_db_instance.main.port}/${local.db_name}"
    TXN_DAGSTER_PG_HOST     = aws_db_instance.main.address
    TXN_DAGSTER_PG_PORT     = tostring(aws_db_instance.main.port)
    TXN_DAGSTER_PG_USER     = local.db_username
    TXN_DAGSTER_PG_PASSWORD = random_password.db.result
    TXN_DAGSTER_PG_DB       = local.dagster_db_name
    TXN_API_KEY             = random_password.api_key.result
    TXN_LANDING             = local.landing_url
    TXN_GENERATE_DAILY      = tostring(var.generate_daily)
    # The address the reverse proxy serves: the domain (a public certificate), or else
    # the Elastic IP (a certificate from the proxy's internal CA).
    TXN_DOMAIN = var.domain != "" ? var.domain : aws_eip.host.public_ip
  }
  host_parameter_names = [
    "TXN_DATABASE_URL",
    "TXN_DAGSTER_PG_HOST",
    "TXN_DAGSTER_PG_PORT",
    "TXN_DAGSTER_PG_USER",
    "TXN_DAGSTER_PG_PASSWORD",
    "TXN_DAGSTER_PG_DB",
    "TXN_API_KEY",
    "TXN_LANDING",
    "TXN_GENERATE_DAILY",
    "TXN_DOMAIN",
  ]
}

resource "aws_ssm_parameter" "host" {
  # Keyed by the names alone: a key derived from the (sensitive) values is refused.
  for_each = toset(local.host_parameter_names)

  name        = "${local.ssm_path}/${each.key}"
  description = "${local.name}: ${each.key} for the Docker host's .env"
  type        = "SecureString"
  key_id      = aws_kms_key.main.arn
  value       = local.host_parameters[each.key]
}
