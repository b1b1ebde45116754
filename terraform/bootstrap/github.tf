# The role the CD workflow assumes with aws-actions/configure-aws-credentials through
# GitHub's OIDC provider: short-lived credentials, only for this repository's main branch
# and its `production` environment. Created when var.github_repository is set.

locals {
  github_oidc_url = "https://token.actions.githubusercontent.com"
  create_github   = var.github_repository != ""
  github_oidc_provider_arn = (
    var.github_oidc_provider_exists
    ? "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
    : try(aws_iam_openid_connect_provider.github[0].arn, "")
  )
}

resource "aws_iam_openid_connect_provider" "github" {
  count = local.create_github && !var.github_oidc_provider_exists ? 1 : 0

  url            = local.github_oidc_url
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "github_assume" {
  count = local.create_github ? 1 : 0

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values = [
        "repo:${var.github_repository}:ref:refs/heads/main",
        "repo:${var.github_repository}:environment:production",
      ]
    }
  }
}

resource "aws_iam_role" "github_deploy" {
  count = local.create_github ? 1 : 0

  name               = "${var.project}-github-deploy"
  description        = "Assumed by the CD workflow of ${var.github_repository} (Terraform apply, deploy)"
  assume_role_policy = data.aws_iam_policy_document.github_assume[0].json
}

# Everything the platform's Terraform manages except IAM...
resource "aws_iam_role_policy_attachment" "github_deploy_power_user" {
  count = local.create_github ? 1 : 0

  role       = aws_iam_role.github_deploy[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

# ...and IAM only for the project's own roles and instance profiles.
data "aws_iam_policy_document" "github_deploy_iam" {
  statement {
    sid = "ProjectRoles"
    actions = [
      "iam:GetRole",
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:ListRoleTags",
      "iam:GetRolePolicy",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:AttachRolePolicy",
      "iam:DetachRolePolicy",
      "iam:ListInstanceProfilesForRole",
      "iam:PassRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${var.project}-*"]
  }

  statement {
    sid = "ProjectInstanceProfiles"
    actions = [
      "iam:GetInstanceProfile",
      "iam:CreateInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:TagInstanceProfile",
      "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:instance-profile/${var.project}-*"]
  }

  statement {
    sid       = "ReadManagedPolicies"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = ["arn:${local.partition}:iam::aws:policy/*"]
  }

  statement {
    sid       = "RdsServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/rds.amazonaws.com/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "github_deploy_iam" {
  count = local.create_github ? 1 : 0

  name   = "project-iam"
  role   = aws_iam_role.github_deploy[0].id
  policy = data.aws_iam_policy_document.github_deploy_iam.json
}
