# The Docker host: SSH from the admin range only, the API on port 80 for everyone.
# The Dagster UI (3000) is bound to 127.0.0.1 on the host and has no rule here: it is
# reached through an SSH tunnel (docs/deployment.md).
resource "aws_security_group" "host" {
  name        = "${local.name}-host"
  description = "Docker host: API on 80, SSH from the admin range"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "${local.name}-host"
  }
}

resource "aws_vpc_security_group_ingress_rule" "host_ssh" {
  security_group_id = aws_security_group.host.id
  description       = "SSH from the admin range (also the path to the Dagster UI tunnel)"
  cidr_ipv4         = var.admin_cidr
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

resource "aws_vpc_security_group_ingress_rule" "host_api" {
  #checkov:skip=CKV_AWS_260:The transaction API is the public face of the platform and is served on port 80 by design; writing endpoints require the API key.
  security_group_id = aws_security_group.host.id
  description       = "Transaction API"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "host_https" {
  security_group_id = aws_security_group.host.id
  description       = "HTTPS: ghcr.io images, S3, SSM, Ubuntu and Docker packages"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "host_http" {
  security_group_id = aws_security_group.host.id
  description       = "HTTP: Ubuntu package mirrors (packages are signed)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "host_postgres" {
  security_group_id            = aws_security_group.host.id
  description                  = "PostgreSQL on RDS"
  referenced_security_group_id = aws_security_group.database.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

# RDS: PostgreSQL from the Docker host only, nothing outbound.
resource "aws_security_group" "database" {
  name        = "${local.name}-database"
  description = "RDS PostgreSQL: reachable from the Docker host only"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "${local.name}-database"
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_from_host" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the Docker host"
  referenced_security_group_id = aws_security_group.host.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}
