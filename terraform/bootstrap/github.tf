# The role the CD workflow assumes with aws-actions/configure-aws-credentials through
# GitHub's OIDC provider: short-lived credentials, only for the `production` environment
# of this repository's main branch. Created when var.github_repository is set.
#
# What it may do is what `terraform apply` of ../ and the deploy job need, no more:
#   - EC2/VPC in var.aws_region (explicit actions; deleting, stopping or re-tagging a
#     resource needs the resource to carry Project = var.project, which ../ puts on all
#     of its own through the provider's default_tags);
#   - RDS, S3, SSM, CloudWatch Logs and KMS on the project's own names and keys;
#   - IAM only for the project's roles and instance profiles, and only inside the
#     permissions boundary of boundary.tf; never on itself, never on the boundary;
#   - the state bucket's objects, the lock table, the state key (use only).
# No AWS-managed blanket policy (PowerUserAccess and the like) is attached.

locals {
  github_oidc_url = "https://token.actions.githubusercontent.com"
  create_github   = var.github_repository != ""
  github_oidc_provider_arn = (
    var.github_oidc_provider_exists
    ? "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
    : try(aws_iam_openid_connect_provider.github[0].arn, "")
  )

  deploy_role_name = "${var.project}-github-deploy"
  deploy_role_arn  = "arn:${local.partition}:iam::${local.account_id}:role/${local.deploy_role_name}"

  # Prefixes of the ARNs the platform's resources get (../ names everything PROJECT-ENV-...).
  ec2_arn  = "arn:${local.partition}:ec2:${var.aws_region}:${local.account_id}"
  rds_arn  = "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}"
  logs_arn = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}"
  kms_arn  = "arn:${local.partition}:kms:${var.aws_region}:${local.account_id}"
  iam_arn  = "arn:${local.partition}:iam::${local.account_id}"

  # The only managed policy a project role may have attached (RDS enhanced monitoring).
  attachable_policy_arns = [
    "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
  ]
  # Never attached to anything, whatever else changes above.
  admin_policy_arns = [
    "arn:${local.partition}:iam::aws:policy/AdministratorAccess",
    "arn:${local.partition}:iam::aws:policy/PowerUserAccess",
    "arn:${local.partition}:iam::aws:policy/IAMFullAccess",
  ]
}

resource "aws_iam_openid_connect_provider" "github" {
  count = local.create_github && !var.github_oidc_provider_exists ? 1 : 0

  url            = local.github_oidc_url
  client_id_list = ["sts.amazonaws.com"]
}

# ---------------------------------------------------------------------------------------
# Who may assume the role.
# ---------------------------------------------------------------------------------------
data "aws_iam_policy_document" "github_assume" {
  count = local.create_github ? 1 : 0

  statement {
    sid     = "MainBranchProductionDeployments"
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
    # A job that names an environment gets `repo:OWNER/REPO:environment:NAME` as its
    # subject, whatever branch it runs on: the subject alone would let a workflow pushed
    # to any branch (or dispatched from one) deploy, if it names `production`.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:production"]
    }
    # So the branch is checked too, with the token's `ref` claim, which STS evaluates as
    # a condition key for GitHub's provider. Not `job_workflow_ref`: GitHub documents
    # that claim for jobs that call a reusable workflow, and the CD jobs are top-level.
    # A token without the claim (or an STS that does not know the key) fails the
    # condition: the check fails closed.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:ref"
      values   = ["refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "github_deploy" {
  count = local.create_github ? 1 : 0

  name                 = local.deploy_role_name
  description          = "Assumed by the CD workflow of ${var.github_repository} (Terraform apply, deploy)"
  assume_role_policy   = data.aws_iam_policy_document.github_assume[0].json
  max_session_duration = 3600
}

# ---------------------------------------------------------------------------------------
# EC2 and VPC: the network, the host, its address and key; the deploy job's temporary
# SSH rule and the host's console (its SSH host keys).
# ---------------------------------------------------------------------------------------
data "aws_iam_policy_document" "github_deploy_network" {
  # Describe calls have no resource-level permissions in EC2.
  statement {
    sid       = "Describe"
    actions   = ["ec2:Describe*"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.aws_region]
    }
  }

  # Resource ids are not known before they exist, so creation is scoped by region; the
  # Project tag the provider adds at creation is what the statements below rely on.
  statement {
    sid = "Create"
    actions = [
      "ec2:CreateVpc",
      "ec2:CreateSubnet",
      "ec2:CreateInternetGateway",
      "ec2:CreateRouteTable",
      "ec2:CreateSecurityGroup",
      "ec2:CreateFlowLogs",
      "ec2:ImportKeyPair",
      "ec2:RunInstances",
      "ec2:AllocateAddress",
      "ec2:CreateTags",
    ]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.aws_region]
    }
  }

  statement {
    sid = "Change"
    actions = [
      "ec2:ModifyVpcAttribute",
      "ec2:ModifySubnetAttribute",
      "ec2:AttachInternetGateway",
      "ec2:DetachInternetGateway",
      "ec2:CreateRoute",
      "ec2:ReplaceRoute",
      "ec2:DeleteRoute",
      "ec2:AssociateRouteTable",
      "ec2:DisassociateRouteTable",
      "ec2:ReplaceRouteTableAssociation",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
      "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      "ec2:ModifySecurityGroupRules",
      "ec2:ModifyInstanceAttribute",
      "ec2:ModifyInstanceMetadataOptions",
      "ec2:ModifyInstanceCreditSpecification",
      "ec2:MonitorInstances",
      "ec2:UnmonitorInstances",
      "ec2:StopInstances",
      "ec2:StartInstances",
      "ec2:ModifyVolume",
      "ec2:AssociateAddress",
      "ec2:DisassociateAddress",
      "ec2:AssociateIamInstanceProfile",
      "ec2:ReplaceIamInstanceProfileAssociation",
      "ec2:DeleteTags",
      "ec2:GetConsoleOutput",
      "ec2:DeleteVpc",
      "ec2:DeleteSubnet",
      "ec2:DeleteInternetGateway",
      "ec2:DeleteRouteTable",
      "ec2:DeleteSecurityGroup",
      "ec2:DeleteFlowLogs",
      "ec2:DeleteKeyPair",
      "ec2:TerminateInstances",
      "ec2:ReleaseAddress",
    ]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.aws_region]
    }
  }

  # Destroying or stopping is limited to the project's own resources...
  statement {
    sid    = "DestroyOnlyProjectResources"
    effect = "Deny"
    actions = [
      "ec2:DeleteVpc",
      "ec2:DeleteSubnet",
      "ec2:DeleteInternetGateway",
      "ec2:DetachInternetGateway",
      "ec2:DeleteRouteTable",
      "ec2:DeleteSecurityGroup",
      "ec2:DeleteFlowLogs",
      "ec2:DeleteKeyPair",
      "ec2:TerminateInstances",
      "ec2:StopInstances",
      "ec2:ReleaseAddress",
    ]
    resources = ["*"]
    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  # ...and another resource cannot be made the project's by tagging it afterwards: tags
  # go on at creation, or onto what already is the project's. (Security groups are left
  # out: Terraform adopts and tags the VPC's default group, which AWS creates untagged.)
  statement {
    sid     = "NoAdoptionByTagging"
    effect  = "Deny"
    actions = ["ec2:CreateTags"]
    resources = [
      "${local.ec2_arn}:vpc/*",
      "${local.ec2_arn}:subnet/*",
      "${local.ec2_arn}:internet-gateway/*",
      "${local.ec2_arn}:route-table/*",
      "${local.ec2_arn}:vpc-flow-log/*",
      "${local.ec2_arn}:key-pair/*",
      "${local.ec2_arn}:instance/*",
      "${local.ec2_arn}:elastic-ip/*",
    ]
    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
    condition {
      test     = "Null"
      variable = "ec2:CreateAction"
      values   = ["true"]
    }
  }

  # Instances keep IMDSv2 (session tokens) whoever launches or changes them.
  statement {
    sid       = "OnlyImdsV2"
    effect    = "Deny"
    actions   = ["ec2:RunInstances", "ec2:ModifyInstanceMetadataOptions"]
    resources = ["${local.ec2_arn}:instance/*"]
    condition {
      test     = "StringNotEquals"
      variable = "ec2:MetadataHttpTokens"
      values   = ["required"]
    }
  }
}

# ---------------------------------------------------------------------------------------
# RDS, S3, SSM, CloudWatch Logs, KMS: the platform's own names and keys.
# ---------------------------------------------------------------------------------------
data "aws_iam_policy_document" "github_deploy_platform" {
  statement {
    sid       = "RdsRead"
    actions   = ["rds:Describe*", "rds:ListTagsForResource"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.aws_region]
    }
  }

  statement {
    sid = "RdsProjectDatabases"
    actions = [
      "rds:CreateDBInstance",
      "rds:ModifyDBInstance",
      "rds:DeleteDBInstance",
      "rds:RebootDBInstance",
      "rds:CreateDBSnapshot",
      "rds:CreateDBSubnetGroup",
      "rds:ModifyDBSubnetGroup",
      "rds:DeleteDBSubnetGroup",
      "rds:CreateDBParameterGroup",
      "rds:ModifyDBParameterGroup",
      "rds:DeleteDBParameterGroup",
      "rds:AddTagsToResource",
      "rds:RemoveTagsFromResource",
    ]
    resources = [
      "${local.rds_arn}:db:${var.project}-*",
      "${local.rds_arn}:pg:${var.project}-*",
      "${local.rds_arn}:subgrp:${var.project}-*",
      "${local.rds_arn}:snapshot:${var.project}-*",
      "${local.rds_arn}:og:default:*",
    ]
  }

  # The landing bucket and its access-log bucket (PROJECT-ENV-landing-ACCOUNT,
  # PROJECT-ENV-access-logs-ACCOUNT): their configuration, never their objects.
  statement {
    sid = "S3ProjectBuckets"
    actions = [
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:GetBucketPolicy",
      "s3:PutBucketPolicy",
      "s3:DeleteBucketPolicy",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketVersioning",
      "s3:PutBucketVersioning",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:PutBucketLogging",
      "s3:GetLifecycleConfiguration",
      "s3:PutLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetEncryptionConfiguration",
      "s3:PutEncryptionConfiguration",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketTagging",
      "s3:PutBucketTagging",
      "s3:GetBucketOwnershipControls",
      "s3:PutBucketOwnershipControls",
      "s3:GetBucketPublicAccessBlock",
      "s3:PutBucketPublicAccessBlock",
      "s3:GetBucketNotification",
    ]
    resources = [
      "arn:${local.partition}:s3:::${var.project}-*-landing-${local.account_id}",
      "arn:${local.partition}:s3:::${var.project}-*-access-logs-${local.account_id}",
    ]
  }

  statement {
    sid = "SsmProjectParameters"
    actions = [
      "ssm:PutParameter",
      "ssm:DeleteParameter",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:AddTagsToResource",
      "ssm:RemoveTagsFromResource",
      "ssm:ListTagsForResource",
    ]
    resources = ["arn:${local.partition}:ssm:${var.aws_region}:${local.account_id}:parameter/${var.project}/*"]
  }

  # DescribeParameters and ListAliases have no resource-level permissions.
  statement {
    sid       = "ListParametersAndAliases"
    actions   = ["ssm:DescribeParameters", "kms:ListAliases"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.aws_region]
    }
  }

  statement {
    sid = "LogsProjectGroups"
    actions = [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:AssociateKmsKey",
      "logs:DisassociateKmsKey",
      "logs:TagResource",
      "logs:UntagResource",
      "logs:ListTagsForResource",
      "logs:TagLogGroup",
      "logs:UntagLogGroup",
      "logs:ListTagsLogGroup",
    ]
    resources = [
      "${local.logs_arn}:log-group:/${var.project}/*",
      "${local.logs_arn}:log-group:/aws/rds/instance/${var.project}-*",
    ]
  }

  statement {
    sid       = "LogsList"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.logs_arn}:log-group:*"]
  }

  # The environment's key: created tagged Project = var.project (default_tags of ../),
  # then managed and used only while it carries that tag. (Tags given to CreateKey are
  # authorised as kms:TagResource on "*", the key not existing yet.)
  statement {
    sid       = "KmsCreateProjectKey"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Project"
      values   = [var.project]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.aws_region]
    }
  }

  statement {
    sid = "KmsProjectKeys"
    actions = [
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:PutKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:EnableKeyRotation",
      "kms:ListResourceTags",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateKeyDescription",
      "kms:ScheduleKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:UpdateAlias",
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
    ]
    resources = ["${local.kms_arn}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  # RDS and EBS take grants on the key for the resources they encrypt.
  statement {
    sid       = "KmsGrantsForAwsResources"
    actions   = ["kms:CreateGrant"]
    resources = ["${local.kms_arn}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  statement {
    sid       = "KmsProjectAliases"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["${local.kms_arn}:alias/${var.project}-*"]
  }

  # Another project's key cannot be re-tagged into this one. (Tagging at CreateKey needs
  # kms:TagResource on "*", so an untagged key could still be adopted by tagging it:
  # keep other keys' policies from delegating to IAM, or this project in its own account.)
  statement {
    sid       = "KmsNoAdoptionOfTaggedKeys"
    effect    = "Deny"
    actions   = ["kms:TagResource", "kms:UntagResource"]
    resources = ["*"]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/Project"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  # The state key carries the Project tag too: it is used, never managed.
  statement {
    sid    = "StateKeyUseOnly"
    effect = "Deny"
    not_actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "kms:DescribeKey",
    ]
    resources = [aws_kms_key.state.arn, "${local.kms_arn}:${aws_kms_alias.state.name}"]
  }
}

# ---------------------------------------------------------------------------------------
# The Terraform state of ../: objects of the state bucket, the lock table, the state key.
# ---------------------------------------------------------------------------------------
data "aws_iam_policy_document" "github_deploy_state" {
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid       = "StateObjects"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]
  }

  statement {
    sid = "StateLock"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:DeleteItem",
    ]
    resources = [aws_dynamodb_table.lock.arn]
  }

  statement {
    sid = "StateKey"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "kms:DescribeKey",
    ]
    resources = [aws_kms_key.state.arn]
  }
}

# ---------------------------------------------------------------------------------------
# IAM: the project's roles and instance profiles, always inside the boundary.
# ---------------------------------------------------------------------------------------
data "aws_iam_policy_document" "github_deploy_iam" {
  statement {
    sid = "ReadProjectRoles"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRoleTags",
    ]
    resources = ["${local.iam_arn}:role/${var.project}-*"]
  }

  # A role is created with the boundary, and its policies change only while it has it.
  statement {
    sid = "CreateOrChangeRolesOnlyWithTheBoundary"
    actions = [
      "iam:CreateRole",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary",
    ]
    resources = ["${local.iam_arn}:role/${var.project}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.workload_boundary_arn]
    }
  }

  # Managed policies: only the listed ones, and only onto bounded roles.
  statement {
    sid       = "AttachOnlyListedPoliciesInsideTheBoundary"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["${local.iam_arn}:role/${var.project}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.workload_boundary_arn]
    }
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = local.attachable_policy_arns
    }
  }

  # Actions that IAM does not condition on the boundary: harmless on a bounded role.
  statement {
    sid = "MaintainProjectRoles"
    actions = [
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:DeleteRole",
    ]
    resources = ["${local.iam_arn}:role/${var.project}-*"]
  }

  statement {
    sid       = "PassProjectRolesToTheirServices"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam_arn}:role/${var.project}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values = [
        "ec2.amazonaws.com",
        "vpc-flow-logs.amazonaws.com",
        "monitoring.rds.amazonaws.com",
        "rds.amazonaws.com",
      ]
    }
  }

  statement {
    sid = "ProjectInstanceProfiles"
    actions = [
      "iam:GetInstanceProfile",
      "iam:CreateInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:TagInstanceProfile",
      "iam:UntagInstanceProfile",
      "iam:ListInstanceProfileTags",
    ]
    resources = ["${local.iam_arn}:instance-profile/${var.project}-*"]
  }

  statement {
    sid       = "ReadPolicies"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = ["arn:${local.partition}:iam::aws:policy/*", local.workload_boundary_arn]
  }

  statement {
    sid       = "RdsServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.iam_arn}:role/aws-service-role/rds.amazonaws.com/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["rds.amazonaws.com"]
    }
  }

  # Guardrails, whatever the statements above grow into.
  statement {
    sid       = "NeverRemoveABoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"]
    resources = ["*"]
  }

  statement {
    sid    = "NeverEditTheBoundary"
    effect = "Deny"
    actions = [
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy",
      "iam:UntagPolicy",
    ]
    resources = [local.workload_boundary_arn]
  }

  statement {
    sid       = "NeverTouchItself"
    effect    = "Deny"
    actions   = ["iam:*"]
    resources = [local.deploy_role_arn]
  }

  statement {
    sid = "NeverAttachAdministration"
    actions = [
      "iam:AttachRolePolicy",
      "iam:AttachUserPolicy",
      "iam:AttachGroupPolicy",
    ]
    effect    = "Deny"
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values   = local.admin_policy_arns
    }
  }
}

locals {
  github_deploy_policies = {
    network  = data.aws_iam_policy_document.github_deploy_network.json
    platform = data.aws_iam_policy_document.github_deploy_platform.json
    state    = data.aws_iam_policy_document.github_deploy_state.json
    iam      = data.aws_iam_policy_document.github_deploy_iam.json
  }
}

# Customer-managed policies rather than inline ones: a role's inline policies share one
# 10,240-character quota, each managed policy has its own 6,144.
resource "aws_iam_policy" "github_deploy" {
  for_each = { for part, document in local.github_deploy_policies : part => document if local.create_github }

  name        = "${local.deploy_role_name}-${each.key}"
  description = "What the CD workflow of ${var.github_repository} needs: ${each.key}"
  policy      = each.value
}

resource "aws_iam_role_policy_attachment" "github_deploy" {
  for_each = aws_iam_policy.github_deploy

  role       = aws_iam_role.github_deploy[0].name
  policy_arn = each.value.arn
}
