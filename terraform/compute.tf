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
          encoding    = "b64"
          content     = filebase64("${path.module}/../docker-compose.yml")
        },
        {
          path        = "/usr/local/bin/txn-render-env"
          permissions = "0755"
          encoding    = "b64"
          content     = filebase64("${path.module}/files/txn-render-env.sh")
        },
        {
          path        = "/usr/local/bin/txn-host-setup"
          permissions = "0755"
          encoding    = "b64"
          content     = filebase64("${path.module}/files/txn-host-setup.sh")
        },
        {
          path        = "/etc/systemd/system/txn-platform.service"
          permissions = "0644"
          encoding    = "b64"
          content     = filebase64("${path.module}/files/txn-platform.service")
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

  #checkov:skip=CKV_AWS_88:Single-host design: the host serves the API on port 80 and is administered over SSH from admin_cidr; its address is the Elastic IP below.
  associate_public_ip_address = true

  monitoring    = true
  ebs_optimized = true

  # IMDSv2 only. Two hops, so that containers on the Docker bridge reach the instance
  # role's credentials (S3 landing zone).
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    kms_key_id            = aws_kms_key.main.arn
    delete_on_termination = true
  }

  # Gzipped (cloud-init unpacks it): the 16 KB user-data limit stays far away.
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

resource "aws_eip" "host" {
  domain   = "vpc"
  instance = aws_instance.host.id

  tags = {
    Name = "${local.name}-host"
  }

  depends_on = [aws_internet_gateway.main]
}
