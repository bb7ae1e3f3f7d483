"""What the offline engine answers in place of AWS: invokes and computed outputs.

Values are realistic in shape (ARNs, ids, endpoints as AWS formats them) and
deterministic (derived from the resource's name), so plans are reproducible and code that
parses an ARN or builds a kubeconfig runs as it would for real.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from typing import Any

from paved.errors import PavedError

ACCOUNT_ID = "123456789012"  # AWS's documentation account: never a real one
PARTITION = "aws"


def _hex(seed: str, n: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _uuid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def invoke(token: str, args: dict[str, Any], region: str) -> dict[str, Any] | None:
    """The result of a provider function, or None when the engine does not know it."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return _availability_zones(args, region)
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"id": ACCOUNT_ID, "accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/paved-offline",
                "userId": "AIDAPAVEDOFFLINE"}
    if token == "aws:index/getPartition:getPartition":
        return {"id": PARTITION, "partition": PARTITION, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
    if token == "aws:index/getRegion:getRegion":
        return {"id": region, "name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region}
    if token == "aws:eks/getCluster:getCluster":
        name = args.get("name", "cluster")
        return {"id": name, "name": name, **_eks_outputs(name, region),
                "version": "1.35", "status": "ACTIVE",
                "certificateAuthorities": [{"data": _ca(name)}],
                "vpcConfig": {"clusterSecurityGroupId": f"sg-{_hex(name + 'sg')}", "vpcId": f"vpc-{_hex(name + 'vpc')}",
                              "subnetIds": [f"subnet-{_hex(name + str(i))}" for i in range(3)],
                              "endpointPrivateAccess": True, "endpointPublicAccess": False}}
    return None


def _availability_zones(args: dict[str, Any], region: str) -> dict[str, Any]:
    """The region's standard zones, as AWS answers: honouring excludeZoneIds / excludeNames.

    A region with no zone list is an error rather than invented zones: a plan that spreads
    subnets over zones the region does not have would pass offline and fail in AWS.
    """
    known = json.loads(resources.files("paved").joinpath("data/availability_zones.json").read_text())["regions"]
    if region not in known:
        raise PavedError(f"the offline engine has no availability zones for region {region!r}; "
                         f"add them to paved/data/availability_zones.json (known: {', '.join(sorted(known))})")
    ids = known[region]
    names = [f"{region}{chr(ord('a') + i)}" for i in range(len(ids))]
    excluded_ids, excluded_names = set(args.get("excludeZoneIds") or ()), set(args.get("excludeNames") or ())
    kept = [(n, z) for n, z in zip(names, ids) if z not in excluded_ids and n not in excluded_names]
    return {"id": region, "state": "available", "names": [n for n, _ in kept], "zoneIds": [z for _, z in kept],
            "groupNames": [region] * len(kept)}


def _ca(name: str) -> str:
    return base64.b64encode(f"-----BEGIN CERTIFICATE-----\noffline {name}\n-----END CERTIFICATE-----\n".encode()).decode()


def _eks_outputs(name: str, region: str) -> dict[str, Any]:
    oidc = _hex(name + "oidc", 32).upper()
    return {
        "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{name}",
        "endpoint": f"https://{_hex(name, 32).upper()}.gr7.{region}.eks.amazonaws.com",
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc}"}]}],
    }


def outputs(typ: str, name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """(id, state) for a new resource: its inputs plus what AWS would compute."""
    state = dict(inputs)
    rid = f"{name}-id"
    arn = None
    if typ == "aws:eks/cluster:Cluster":
        cluster = inputs.get("name", name)
        rid = cluster
        state.update(_eks_outputs(cluster, region))
        state["certificateAuthority"] = {"data": _ca(cluster)}
        vpc = dict(inputs.get("vpcConfig") or {})
        vpc["clusterSecurityGroupId"] = f"sg-{_hex(cluster + 'sg')}"
        state["vpcConfig"] = vpc
    elif typ == "aws:msk/cluster:Cluster":
        cluster = inputs.get("clusterName", name)
        uuid = _uuid(cluster) + "-s1"
        arn = f"arn:aws:kafka:{region}:{ACCOUNT_ID}:cluster/{cluster}/{uuid}"
        brokers = int(inputs.get("numberOfBrokerNodes", 3) or 3)
        state["bootstrapBrokersSaslIam"] = ",".join(
            f"b-{i + 1}.{cluster}.{_hex(cluster, 6)}.c2.kafka.{region}.amazonaws.com:9098" for i in range(brokers))
        state["clusterUuid"] = uuid
    elif typ == "aws:msk/topic:Topic":
        cluster_arn = str(inputs.get("clusterArn", ""))
        arn = cluster_arn.replace(":cluster/", ":topic/", 1) + f"/{inputs.get('name', name)}"
    elif typ == "aws:msk/configuration:Configuration":
        arn = f"arn:aws:kafka:{region}:{ACCOUNT_ID}:configuration/{inputs.get('name', name)}/{_uuid(name)}-1"
        state["latestRevision"] = 1
    elif typ == "aws:kms/key:Key":
        key_id = _uuid(name)
        rid = key_id
        state["keyId"] = key_id
        arn = f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"
    elif typ == "aws:secretsmanager/secret:Secret":
        secret = inputs.get("name", name)
        arn = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{secret}-{_hex(secret, 6)}"
        rid = arn
    elif typ == "aws:iam/role:Role":
        role = inputs.get("name") or f"{name}-{_hex(name, 7)}"
        rid = role
        state["name"] = role
        arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
    elif typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        url = str(inputs.get("url", "")).removeprefix("https://")
        arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url}"
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        group = inputs.get("name", name)
        rid = group
        arn = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}"
    elif typ == "aws:wafv2/webAcl:WebAcl":
        acl = inputs.get("name", name)
        rid = _uuid(acl)
        scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
        arn = f"arn:aws:wafv2:{region}:{ACCOUNT_ID}:{scope}/webacl/{acl}/{rid}"
    elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
        rid = f"lt-{_hex(name)}"
        state["latestVersion"] = 1
    elif typ.startswith("aws:ec2/") or typ.startswith("aws:vpc/"):
        prefix = {
            "aws:ec2/vpc:Vpc": "vpc", "aws:ec2/subnet:Subnet": "subnet", "aws:ec2/internetGateway:InternetGateway": "igw",
            "aws:ec2/eip:Eip": "eipalloc", "aws:ec2/natGateway:NatGateway": "nat", "aws:ec2/routeTable:RouteTable": "rtb",
            "aws:ec2/securityGroup:SecurityGroup": "sg", "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
        }.get(typ, "r")
        rid = f"{prefix}-{_hex(name)}"
        if typ == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Interface":
            # Endpoint-specific names, regional first, then one per zone (as AWS lists them).
            service = str(inputs.get("serviceName", "")).rsplit(".", 1)[-1]
            host = f"{rid}-{_hex(rid, 8)}.{service}.{region}.vpce.amazonaws.com"
            state["dnsEntries"] = [{"dnsName": host, "hostedZoneId": "Z7HUB22UULQXV"}]
    elif typ == "aws:rds/instance:Instance":
        ident = inputs.get("identifier") or name
        rid = ident
        state["resourceId"] = f"db-{_hex(ident, 26).upper()}"
        state["address"] = f"{ident}.{_hex(ident, 12)}.{region}.rds.amazonaws.com"
        state["endpoint"] = f"{state['address']}:{inputs.get('port', 5432)}"
        if inputs.get("manageMasterUserPassword"):
            # The secret RDS creates and rotates: named rds!db-<uuid>, encrypted with the given key.
            secret = f"rds!db-{_uuid(ident)}"
            state["masterUserSecrets"] = [{
                "secretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{secret}-{_hex(secret, 6)}",
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId") or f"arn:aws:kms:{region}:{ACCOUNT_ID}:alias/aws/secretsmanager",
                "secretStatus": "active"}]
        arn = f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{ident}"
    elif typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup"):
        rid = inputs.get("name") or f"{name}-{_hex(name, 7)}"
        state["name"] = rid
    elif typ == "aws:dynamodb/table:Table":
        rid = inputs.get("name", name)
        arn = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{rid}"
    elif typ == "aws:elasticache/serverlessCache:ServerlessCache":
        cache = inputs.get("name", name)
        rid = cache
        host = f"{cache}-{_hex(cache, 6)}.serverless.{region[:3]}{region.split('-')[1][0]}{region[-1]}.cache.amazonaws.com"
        state["endpoints"] = [{"address": host, "port": 6379}]
        state["readerEndpoints"] = [{"address": host, "port": 6380}]
        arn = f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:serverlesscache:{cache}"
    elif typ == "aws:elasticache/replicationGroup:ReplicationGroup":
        group = inputs.get("replicationGroupId", name)
        rid = group
        suffix = f"{_hex(group, 6)}.ng.0001.{region[:3]}{region.split('-')[1][0]}{region[-1]}.cache.amazonaws.com"
        state["primaryEndpointAddress"] = f"master.{group}.{suffix}"
        state["readerEndpointAddress"] = f"replica.{group}.{suffix}"
        count = int(inputs.get("numCacheClusters", 1) or 1)
        state["memberClusters"] = [f"{group}-{i:03d}" for i in range(1, count + 1)]
        arn = f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:replicationgroup:{group}"
    elif typ == "aws:elasticache/subnetGroup:SubnetGroup":
        rid = inputs.get("name", name)
        state["name"] = rid
    elif typ == "aws:elasticache/user:User":
        rid = inputs.get("userId", name)
        arn = f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:user:{rid}"
    elif typ == "aws:elasticache/userGroup:UserGroup":
        rid = inputs.get("userGroupId", name)
        arn = f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:usergroup:{rid}"
    elif typ == "aws:eks/nodeGroup:NodeGroup":
        rid = f"{inputs.get('clusterName', 'cluster')}:{inputs.get('nodeGroupName', name)}"
    if typ.startswith("aws:") and "arn" not in state:
        service = typ.split(":")[1].split("/")[0]
        state["arn"] = arn or f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{name}"
    elif arn:
        state["arn"] = arn
    state.setdefault("id", rid)
    return rid, state
