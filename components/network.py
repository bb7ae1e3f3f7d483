"""Network: a VPC across the stack's zones, or an existing one.

Public subnets hold the NAT gateways and internet-facing load balancers; private subnets
hold the nodes and the Kafka brokers. Subnets carry the tags EKS and the AWS Load Balancer
Controller use to discover them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from paved.errors import PavedError
from paved.stack import NetworkSettings

# A route, not an allow rule: the only way to send traffic to the internet gateway or a
# NAT gateway. Security groups and endpoints never use it.
DEFAULT_ROUTE = "0.0.0.0/0"
INTERFACE_ENDPOINTS = ("secretsmanager", "sts")
# DynamoDB through an interface endpoint, addressed by its own DNS name (docs/data.md "Network"):
# the pods' NetworkPolicy can name the VPC CIDR on 443, which it cannot for DynamoDB's public
# ranges or a gateway endpoint's prefix list. Private DNS for it is not relied on (not verified).
DYNAMODB = "dynamodb"


@dataclass(frozen=True)
class NetworkArgs:
    """The stack's network settings and the cluster the subnets are tagged for."""

    settings: NetworkSettings
    cluster_name: str
    environment: str
    region: str
    extra_endpoints: tuple[str, ...] = ()  # more AWS services to reach privately (e.g. for the ALB controller)
    dynamodb: bool = False  # some service declares DynamoDB tables: an interface endpoint for DynamoDB


def subnet_plan(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(public, private) subnet CIDRs: the VPC cut in 16, public first, private from the middle."""
    network = ipaddress.ip_network(cidr)
    blocks = [str(b) for b in network.subnets(prefixlen_diff=4)]
    return blocks[:zones], blocks[8:8 + zones]


def subnet_tags(cluster_name: str, public: bool, zone: str, environment: str) -> dict[str, str]:
    """Discovery tags: EKS (cluster) and the load balancer controller (elb / internal-elb)."""
    role = "kubernetes.io/role/elb" if public else "kubernetes.io/role/internal-elb"
    return {
        "Name": f"paved-{environment}-{'public' if public else 'private'}-{zone}",
        f"kubernetes.io/cluster/{cluster_name}": "shared",
        role: "1",
    }


# Zones EKS refuses for control-plane subnets ("Subnet requirements" in the EKS user guide);
# use1-az3 also has no current-generation (Nitro) instances, so nodes and MSK brokers cannot
# run there either. Zone IDs, not names: names map to different zones in every account.
UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")


def usable_zones(count: int, parent: pulumi.Resource) -> list[str]:
    """The first ``count`` standard zones of the region that EKS, its nodes and MSK support.

    Local and Wavelength zones are left out (opt-in). The lookup is a plain (blocking) invoke,
    so a region with too few zones stops the run here, with the numbers, instead of an index
    error deep in the engine.
    """
    found = aws.get_availability_zones(
        state="available", exclude_zone_ids=list(UNSUPPORTED_ZONE_IDS),
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        opts=pulumi.InvokeOptions(parent=parent))
    if len(found.names) < count:
        raise PavedError(f"paved:network zones is {count}, but the region has only {len(found.names)} zones "
                         f"that EKS and MSK support ({', '.join(found.names)}); lower zones")
    return list(found.names[:count])


def endpoint_args(region: str, service: str, vpc_id: pulumi.Input[str], subnet_ids: list,
                  security_group_id: pulumi.Input[str]) -> aws.ec2.VpcEndpointArgs:
    """An interface endpoint in the private subnets, HTTPS from the VPC. Private DNS (the service's
    regional name resolving to the endpoint) for all but DynamoDB, whose clients are pointed at the
    endpoint's own DNS name instead (``AWS_ENDPOINT_URL_DYNAMODB``, docs/data-contract.md)."""
    return aws.ec2.VpcEndpointArgs(
        vpc_id=vpc_id, service_name=f"com.amazonaws.{region}.{service}", vpc_endpoint_type="Interface",
        private_dns_enabled=service != DYNAMODB, subnet_ids=subnet_ids, security_group_ids=[security_group_id])


def first_dns_name(entries: list | None) -> str:
    """The endpoint's first DNS entry (its regional, endpoint-specific name), or empty."""
    if not entries:
        return ""
    first = entries[0]
    name = getattr(first, "dns_name", None)
    if name is None and isinstance(first, dict):
        name = first.get("dnsName")
    return name or ""


def nat_count(settings: NetworkSettings) -> int:
    """One NAT gateway (cheap, dev) or one per zone (no cross-zone dependency, prod)."""
    return settings.zones if settings.nat_gateways == "perZone" else 1


class Network(pulumi.ComponentResource):
    """The VPC, its subnets, gateways and routes; or the ids of an existing VPC."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list]
    public_subnet_ids: pulumi.Output[list]
    dynamodb_endpoint_dns: pulumi.Output[str]  # empty without the DynamoDB endpoint

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:network:Network", name, None, opts)
        s = args.settings
        if s.mode == "existing":
            self.vpc_id = pulumi.Output.from_input(s.vpc_id)
            self.private_subnet_ids = pulumi.Output.from_input(list(s.private_subnet_ids))
            self.public_subnet_ids = pulumi.Output.from_input(list(s.public_subnet_ids))
            # paved creates no endpoints in a VPC it does not own (docs/data.md "Network").
            self.dynamodb_endpoint_dns = pulumi.Output.from_input("")
            self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids,
                                   "public_subnet_ids": self.public_subnet_ids,
                                   "dynamodb_endpoint_dns": self.dynamodb_endpoint_dns})
            return

        child = pulumi.ResourceOptions(parent=self)
        zones = usable_zones(s.zones, self)
        public_cidrs, private_cidrs = subnet_plan(s.cidr, s.zones)
        vpc = aws.ec2.Vpc(f"{name}-vpc", aws.ec2.VpcArgs(
            cidr_block=s.cidr, enable_dns_hostnames=True, enable_dns_support=True,
            tags={"Name": f"paved-{args.environment}"}), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", aws.ec2.InternetGatewayArgs(vpc_id=vpc.id), opts=child)

        public, private = [], []
        for i in range(s.zones):
            zone = zones[i]
            public.append(aws.ec2.Subnet(f"{name}-public-{i}", aws.ec2.SubnetArgs(
                vpc_id=vpc.id, cidr_block=public_cidrs[i], availability_zone=zone, map_public_ip_on_launch=False,
                tags=subnet_tags(args.cluster_name, True, zone, args.environment)), opts=child))
            private.append(aws.ec2.Subnet(f"{name}-private-{i}", aws.ec2.SubnetArgs(
                vpc_id=vpc.id, cidr_block=private_cidrs[i], availability_zone=zone, map_public_ip_on_launch=False,
                tags=subnet_tags(args.cluster_name, False, zone, args.environment)), opts=child))

        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", aws.ec2.RouteTableArgs(
            vpc_id=vpc.id, routes=[aws.ec2.RouteTableRouteArgs(cidr_block=DEFAULT_ROUTE, gateway_id=igw.id)]), opts=child)
        for i, subnet in enumerate(public):
            aws.ec2.RouteTableAssociation(f"{name}-public-rta-{i}", aws.ec2.RouteTableAssociationArgs(
                subnet_id=subnet.id, route_table_id=public_rt.id), opts=child)

        nats = []
        for i in range(nat_count(s)):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", aws.ec2.EipArgs(domain="vpc"), opts=child)
            nats.append(aws.ec2.NatGateway(f"{name}-nat-{i}", aws.ec2.NatGatewayArgs(
                allocation_id=eip.id, subnet_id=public[i].id), opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        for i, subnet in enumerate(private):
            nat = nats[i % len(nats)]
            rt = aws.ec2.RouteTable(f"{name}-private-rt-{i}", aws.ec2.RouteTableArgs(
                vpc_id=vpc.id, routes=[aws.ec2.RouteTableRouteArgs(cidr_block=DEFAULT_ROUTE, nat_gateway_id=nat.id)]), opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-rta-{i}", aws.ec2.RouteTableAssociationArgs(
                subnet_id=subnet.id, route_table_id=rt.id), opts=child)

        # Secrets Manager and STS inside the VPC: operators and IRSA reach them without NAT
        # and without an egress rule to the internet.
        endpoint_sg = aws.ec2.SecurityGroup(f"{name}-endpoints-sg", aws.ec2.SecurityGroupArgs(
            vpc_id=vpc.id, description="HTTPS to AWS interface endpoints from inside the VPC"), opts=child)
        aws.vpc.SecurityGroupIngressRule(f"{name}-endpoints-https", aws.vpc.SecurityGroupIngressRuleArgs(
            security_group_id=endpoint_sg.id, cidr_ipv4=s.cidr, ip_protocol="tcp", from_port=443, to_port=443,
            description="HTTPS from the VPC"), opts=child)
        endpoints = {}
        for service in (*INTERFACE_ENDPOINTS, *args.extra_endpoints, *((DYNAMODB,) if args.dynamodb else ())):
            endpoints[service] = aws.ec2.VpcEndpoint(f"{name}-endpoint-{service}", endpoint_args(
                args.region, service, vpc.id, [sn.id for sn in private], endpoint_sg.id), opts=child)
        dynamodb = endpoints.get(DYNAMODB)
        self.dynamodb_endpoint_dns = (dynamodb.dns_entries.apply(first_dns_name) if dynamodb is not None
                                      else pulumi.Output.from_input(""))

        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[sn.id for sn in private])
        self.public_subnet_ids = pulumi.Output.all(*[sn.id for sn in public])
        self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids,
                               "public_subnet_ids": self.public_subnet_ids,
                               "dynamodb_endpoint_dns": self.dynamodb_endpoint_dns})
