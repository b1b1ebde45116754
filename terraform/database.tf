resource "aws_db_subnet_group" "main" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "postgres15" {
  name        = "${local.name}-postgres15"
  family      = "postgres15"
  description = "${local.name}: TLS only, slow-query and connection logging"

  # Clients must use TLS; the host's clients also verify the server's certificate and
  # name (PGSSLMODE=verify-full against the RDS CA bundle, written by txn-render-env).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Statements slower than one second, plus schema changes, go to the log.
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }
}

resource "aws_db_instance" "main" {
  #checkov:skip=CKV_AWS_157:Multi-AZ is the db_multi_az variable (off by default for cost: one host, daily-batch workload, point-in-time recovery from automated backups).
  identifier     = local.name
  engine         = "postgres"
  engine_version = "15"
  instance_class = var.db_instance_class

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.main.arn

  # The warehouse database; the `migrate` job creates Dagster's database beside it.
  db_name  = local.db_name
  username = local.db_username
  password = random_password.db.result
  port     = 5432

  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.database.id]
  parameter_group_name   = aws_db_parameter_group.postgres15.name
  publicly_accessible    = false
  multi_az               = var.db_multi_az

  # Signed by an RDS CA of the global bundle the image carries for PGSSLROOTCERT.
  ca_cert_identifier = "rds-ca-rsa2048-g1"

  backup_retention_period  = var.db_backup_retention_days
  backup_window            = "03:00-04:00"
  maintenance_window       = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot    = true
  delete_automated_backups = false

  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.name}-final"

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.main.arn
  performance_insights_retention_period = 7

  monitoring_interval = 60
  monitoring_role_arn = aws_iam_role.rds_monitoring.arn

  depends_on = [aws_cloudwatch_log_group.rds]
}

# Created ahead of the instance so that retention and encryption are ours.
resource "aws_cloudwatch_log_group" "rds" {
  for_each = toset(["postgresql", "upgrade"])

  name              = "/aws/rds/instance/${local.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}
