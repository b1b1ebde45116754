# The Docker host: HTTPS (443) for everyone, answered by the TLS-terminating reverse
# proxy in front of the API; HTTP (80) only so that the proxy can redirect to HTTPS (and
# answer ACME HTTP-01 challenges); SSH from the admin range only. Nothing else is public:
# the API's own port (8000) and the Dagster UI (3000, bound to 127.0.0.1 on the host and
# reached through an SSH tunnel, docs/deployment.md) have no rule here.
resource "aws_security_group" "host" {
  name = "${local.name}-host"
  # Unchanged since the first release on purpose: a new description replaces the group,
  # which the running host still uses.
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

resource "aws_vpc_security_group_ingress_rule" "host_https" {
  security_group_id = aws_security_group.host.id
  description       = "HTTPS: the reverse proxy in front of the transaction API"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "host_http" {
  #checkov:skip=CKV_AWS_260:Port 80 reaches only the reverse proxy, which answers with a redirect to HTTPS (and ACME HTTP-01 challenges); no application is served over plain HTTP.
  security_group_id = aws_security_group.host.id
  description       = "HTTP: redirect to HTTPS by the reverse proxy"
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

# The rule for port 80 was called host_api when the API itself answered there.
moved {
  from = aws_vpc_security_group_ingress_rule.host_api
  to   = aws_vpc_security_group_ingress_rule.host_http
}
