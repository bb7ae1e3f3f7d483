"""DeployRunner: where `pulumi up` reaches a private cluster from.

A cluster whose API endpoint is private answers only inside its VPC, so GitHub's hosted
runners cannot apply the Kubernetes half of the program. The runner is an AWS CodeBuild
project in the private subnets that registers as a GitHub Actions runner for one job at a
time (CodeBuild's managed GitHub Actions runners: a webhook on WORKFLOW_JOB_QUEUED, and a
job that asks for ``runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}``).

Its own role can only start its network interfaces, write its logs and use the GitHub
connection; the deployment itself runs with the role the job assumes through GitHub's OIDC
provider (``AWS_DEPLOY_ROLE_ARN``), which is the cluster creator's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.keys import document, service_trust
from components.network import DEFAULT_ROUTE
from paved.stack import DeployRunnerSettings

HTTPS = 443


def runner_project_name(environment: str) -> str:
    """The CodeBuild project's name, which the deploy workflow's ``runs-on`` label names too."""
    return f"paved-{environment}-deploy"


def runs_on_label(environment: str) -> str:
    """The ``runs-on`` label of a job that runs on the environment's runner."""
    return f"codebuild-{runner_project_name(environment)}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


def runner_permissions(account_id: str, region: str, partition: str, log_group_arn: str,
                       connection_arn: str, subnet_arns: list[str]) -> str:
    """What CodeBuild needs to run a build in the VPC (per the CodeBuild user guide's VPC
    policy), write the project's logs and clone through the connection: nothing else."""
    return document(
        {"Sid": "DescribeNetwork", "Effect": "Allow",
         "Action": ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"],
         "Resource": "*"},
        {"Sid": "ManageBuildInterfaces", "Effect": "Allow",
         "Action": ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
         "Resource": [f"arn:{partition}:ec2:{region}:{account_id}:network-interface/*",
                      f"arn:{partition}:ec2:{region}:{account_id}:security-group/*", *subnet_arns]},
        {"Sid": "AttachBuildInterfaces", "Effect": "Allow", "Action": "ec2:CreateNetworkInterfacePermission",
         "Resource": f"arn:{partition}:ec2:{region}:{account_id}:network-interface/*",
         "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                       "ArnEquals": {"ec2:Subnet": subnet_arns}}},
        {"Sid": "WriteBuildLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"]},
        # The service prefix of the actions is the ARN's (CodeConnections, or its former name
        # CodeStar Connections for connections created before the rename).
        {"Sid": "UseGitHubConnection", "Effect": "Allow",
         "Action": [f"{connection_arn.split(':')[2]}:UseConnection", f"{connection_arn.split(':')[2]}:GetConnectionToken"],
         "Resource": connection_arn},
    )


@dataclass(frozen=True)
class DeployRunnerArgs:
    """The runner's settings and the network it runs in."""

    settings: DeployRunnerSettings
    environment: str
    region: str
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list]
    log_retention_days: int


class DeployRunner(pulumi.ComponentResource):
    """A CodeBuild-hosted GitHub Actions runner in the cluster's private subnets."""

    project_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DeployRunnerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:runner:DeployRunner", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        project = runner_project_name(args.environment)
        logs = aws.cloudwatch.LogGroup(f"{name}-logs", aws.cloudwatch.LogGroupArgs(
            name=f"/aws/codebuild/{project}", retention_in_days=args.log_retention_days), opts=child)
        group = aws.ec2.SecurityGroup(f"{name}-sg", aws.ec2.SecurityGroupArgs(
            vpc_id=args.vpc_id, description=f"paved {args.environment} deploy runner: HTTPS out only"), opts=child)
        # GitHub, Pulumi Cloud, PyPI and the AWS APIs are all HTTPS; GitHub publishes no stable
        # ranges, so egress is to any address on 443 (through the NAT gateway), and no ingress.
        aws.vpc.SecurityGroupEgressRule(f"{name}-sg-https", aws.vpc.SecurityGroupEgressRuleArgs(
            security_group_id=group.id, ip_protocol="tcp", from_port=HTTPS, to_port=HTTPS, cidr_ipv4=DEFAULT_ROUTE,
            description="HTTPS to GitHub, Pulumi Cloud, package indexes and AWS APIs"), opts=child)
        role = aws.iam.Role(f"{name}-role", aws.iam.RoleArgs(
            description=f"paved {args.environment} deploy runner (CodeBuild)",
            assume_role_policy=service_trust("codebuild.amazonaws.com")), opts=child)
        subnet_arns = pulumi.Output.all(args.partition, args.account_id, args.subnet_ids).apply(
            lambda v: [f"arn:{v[0]}:ec2:{args.region}:{v[1]}:subnet/{sid}" for sid in v[2]])
        policy = aws.iam.RolePolicy(f"{name}-policy", aws.iam.RolePolicyArgs(
            role=role.id,
            policy=pulumi.Output.all(args.account_id, args.partition, logs.arn, subnet_arns).apply(
                lambda v: runner_permissions(v[0], args.region, v[1], v[2], s.connection_arn, v[3]))), opts=child)
        codebuild = aws.codebuild.Project(f"{name}-project", aws.codebuild.ProjectArgs(
            name=project,
            description=f"GitHub Actions runner for deployments to {args.environment} (in the cluster's VPC)",
            service_role=role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB", location=s.repository,
                auth=aws.codebuild.ProjectSourceAuthArgs(type="CODECONNECTIONS", resource=s.connection_arn)),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                compute_type=s.compute_type, image=s.image, type="LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD"),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id, subnets=args.subnet_ids, security_group_ids=[group.id]),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(group_name=logs.name)),
            build_timeout=120,
        ), opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        aws.codebuild.Webhook(f"{name}-webhook", aws.codebuild.WebhookArgs(
            project_name=codebuild.name, build_type="BUILD",
            filter_groups=[aws.codebuild.WebhookFilterGroupArgs(filters=[
                aws.codebuild.WebhookFilterGroupFilterArgs(type="EVENT", pattern="WORKFLOW_JOB_QUEUED")])]),
            opts=child)
        self.project_name = codebuild.name
        self.role_arn = role.arn
        self.register_outputs({"project_name": self.project_name, "role_arn": self.role_arn})

