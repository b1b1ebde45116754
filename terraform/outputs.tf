# Addresses and names only: no secret is ever an output.

output "host_public_ip" {
  description = "Elastic IP of the Docker host (SSH and the API)."
  value       = aws_eip.host.public_ip
}

output "host_security_group_id" {
  description = "Security group of the host (the deploy job opens SSH to its runner here for the length of a deploy)."
  value       = aws_security_group.host.id
}

output "instance_id" {
  description = "EC2 instance of the Docker host."
  value       = aws_instance.host.id
}

output "api_url" {
  description = "Public URL of the transaction API, over HTTPS (plain HTTP only redirects). Without var.domain the certificate comes from the proxy's internal CA."
  value       = "https://${var.domain != "" ? var.domain : aws_eip.host.public_ip}"
}

output "dagster_ui_tunnel" {
  description = "Opens the Dagster UI at http://127.0.0.1:3000/dagster/ through SSH to the webserver container's address on the host (it publishes no port)."
  value       = "ssh -N -L 3000:$(ssh ubuntu@${aws_eip.host.public_ip} \"sudo docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' txn-platform-webserver-1\"):3000 ubuntu@${aws_eip.host.public_ip}"
}

output "landing_bucket" {
  description = "S3 bucket of the landing zone."
  value       = aws_s3_bucket.landing.bucket
}

output "landing_url" {
  description = "TXN_LANDING of the deployment."
  value       = local.landing_url
}

output "db_address" {
  description = "Host name of the RDS instance (private)."
  value       = aws_db_instance.main.address
}

output "ssm_parameter_path" {
  description = "SSM path whose SecureString parameters become the host's .env."
  value       = local.ssm_path
}
