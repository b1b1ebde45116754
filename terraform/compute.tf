# Ubuntu 22.04 LTS, the latest image published by Canonical.
data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "aws_key_pair" "deploy" {
  key_name   = "${local.name}-deploy"
  public_key = var.ssh_public_key
}

locals {
  # Non-secret settings of the host. Secrets are read from SSM at boot, never written here.
  host_conf = <<-EOT
    REGION=${var.aws_region}
    SSM_PATH=${local.ssm_path}
    IMAGE_REPOSITORY=${var.image_repository}
    IMAGE_TAG=${var.image_tag}
  EOT

  user_data = join("\n", [
    "#cloud-config",
    yamlencode({
      write_files = [
        {
          path        = "/etc/txn/host.conf"
          permissions = "0644"
          content     = local.host_conf
        },
        {
          path        = "/opt/txn/docker-compose.yml"
          permissions = "0644"
          content     = file("${path.module}/../docker-compose.yml")
        },
        {
          # The reverse proxy's configuration (docker-compose.yml mounts ./docker).
          path        = "/opt/txn/docker/Caddyfile"
          permissions = "0644"
          content     = file("${path.module}/../docker/Caddyfile")
        },
        {
          path        = "/usr/local/bin/txn-render-env"
          permissions = "0755"
          content     = file("${path.module}/files/txn-render-env.sh")
        },
        {
          path        = "/usr/local/bin/txn-imds-guard"
          permissions = "0755"
          content     = file("${path.module}/files/txn-imds-guard.sh")
        },
        {
          path        = "/etc/systemd/system/txn-imds-guard.service"
          permissions = "0644"
          content     = file("${path.module}/files/txn-imds-guard.service")
        },
        {
          path        = "/usr/local/bin/txn-host-setup"
          permissions = "0755"
          content     = file("${path.module}/files/txn-host-setup.sh")
        },
        {
          path        = "/etc/systemd/system/txn-platform.service"
          permissions = "0644"
          content     = file("${path.module}/files/txn-platform.service")
        },
      ]
      runcmd = [["/usr/local/bin/txn-host-setup"]]
    }),
  ])
}

resource "aws_instance" "host" {
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.public.id
  vpc_security_group_ids = [aws_security_group.host.id]
  iam_instance_profile   = aws_iam_instance_profile.host.name
  key_name               = aws_key_pair.deploy.key_name

  #checkov:skip=CKV_AWS_88:Single-host design: the host's reverse proxy serves the API on 443 (80 redirects) and it is administered over SSH from admin_cidr; its address is the Elastic IP below.
  associate_public_ip_address = true

  monitoring    = true
  ebs_optimized = true

  # IMDSv2 only. Two hops, so that a container behind a Docker bridge can reach the
  # instance role's credentials at all; which containers may is decided on the host:
  # txn-imds-guard (iptables, DOCKER-USER chain) rejects metadata requests from every
  # bridge but `txn-aws`, the network of the two services that use S3 (the API and the
  # code server). IPv6 stays off, so the metadata service has no second address.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
    http_protocol_ipv6          = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    kms_key_id            = aws_kms_key.main.arn
    delete_on_termination = true
  }

  # Gzipped (cloud-init unpacks it): the 16 KB user-data limit stays far away. The files
  # go in as plain text, which compresses far better than base64 would.
  user_data_base64 = base64gzip(local.user_data)

  lifecycle {
    # A new Ubuntu image or boot script does not replace a running host by itself; roll
    # it deliberately with `terraform apply -replace=aws_instance.host`. Deploys copy
    # the current compose file over SSH.
    ignore_changes = [ami, user_data_base64]
  }

  tags = {
    Name = "${local.name}-host"
  }

  # The host reads its parameters at first boot.
  depends_on = [aws_ssm_parameter.host, aws_iam_role_policy.host]
}

# Allocated apart from the instance, so that the address is known before the host boots:
# it is the proxy's site address when there is no domain (TXN_DOMAIN, secrets.tf).
resource "aws_eip" "host" {
  domain = "vpc"

  tags = {
    Name = "${local.name}-host"
  }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_eip_association" "host" {
  allocation_id = aws_eip.host.id
  instance_id   = aws_instance.host.id
}
