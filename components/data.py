"""ServiceData: a service's own datastores, from its catalog ``data`` block.

A dedicated RDS for PostgreSQL instance (docs/data.md says why dedicated, not a shared
Aurora cluster), DynamoDB tables and an ElastiCache cache (Serverless, or a node-based
replication group where the stack says ``cacheMode: nodes``), all encrypted with the
service's own customer-managed key, in private subnets, reachable only from the cluster's
nodes. The service connects with its own IAM role (IAM database authentication,
table- and index-scoped DynamoDB rights, IAM cache user): no password anywhere. The
connection settings reach the pods as the variables of docs/data-contract.md.

The spec builders are pure functions (catalog entry → typed ``*Args``), tested without
Pulumi; the component only wires them together.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.keys import customer_key
from components.renames import former_aliases
from paved.model import Cache, Migrate, Postgres, Service, Table, Team
from paved.naming import database_identifier, database_name, secret_owner, table_env_name, table_name
from paved.stack import CacheNodes, StackSettings

POSTGRES_PORT = 5432
# DynamoDB through the VPC's interface endpoint (components/network.py): HTTPS to the VPC CIDR.
DYNAMODB_ENDPOINT_PORT = 443
# ElastiCache Serverless: 6379 for reads and writes, 6380 for reads from replicas.
CACHE_PORTS = (6379, 6380)
# The master user: RDS keeps its password in Secrets Manager (manageMasterUserPassword),
# encrypted with the service's key. Only the migration Job gets it, to create the service's own
# role (docs/data.md "The database user"); the service's pods never do.
MASTER_USER = "paved_admin"
# RDS's 2048-bit RSA CA, valid to 2061; clients verify the server against the RDS bundle.
RDS_CA = "rds-ca-rsa2048-g1"
# Where the service image carries the RDS CA bundle (docs/data-contract.md).
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"
STORAGE_TYPE = "gp3"
# UTC, outside business hours in the stack regions; backups before maintenance.
BACKUP_WINDOW = "03:00-04:00"
MAINTENANCE_WINDOW = "sun:04:30-sun:05:30"
CACHE_SNAPSHOT_TIME = "03:00"
# ElastiCache Serverless cache names and replication group ids: at most 40 characters.
MAX_CACHE_NAME = 40
# Node-based caches (paved:data.cacheMode nodes): the engine version of each engine (IAM
# authentication needs Valkey 7.2+ or Redis OSS 7+). Their snapshots and maintenance take the
# database's windows.
CACHE_NODE_ENGINE_VERSIONS = {"valkey": "8.0", "redis": "7.1"}


@dataclass(frozen=True)
class DataWiring:
    """What the service's pods get from its datastores."""

    env: dict[str, pulumi.Input[str]]
    ports: tuple[int, ...]  # TCP ports the pods reach in the VPC (NetworkPolicy egress)
    migrate: Migrate | None = None
    # The RDS-managed master user secret, for the migration Job only (it creates the service's role).
    master_secret_arn: pulumi.Input[str] | None = None
    key_arn: pulumi.Input[str] | None = None  # the service's data key, which encrypts that secret


@dataclass(frozen=True)
class ServiceDataArgs:
    """An effective catalog entry with ``data``, and where its datastores go."""

    service: Service
    team: Team
    settings: StackSettings
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list]
    node_security_group_id: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    tags: dict[str, str]
    # The DynamoDB interface endpoint's DNS name, or None where the network has none (existing VPC).
    dynamodb_endpoint_dns: pulumi.Input[str] | None = None


def _short(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{text[:limit - 7].rstrip('-')}-{digest}"


def cache_name(environment: str, service: str) -> str:
    """The serverless cache's name (and its IAM user's id): ``<env>-<service>``, at most 40 characters."""
    return _short(f"{environment}-{service}", MAX_CACHE_NAME)


def parameter_group_args(pg: Postgres, tags: dict[str, str]) -> aws.rds.ParameterGroupArgs:
    """The instance's parameters: TLS required for every connection, connections logged."""
    return aws.rds.ParameterGroupArgs(
        family=f"postgres{pg.major_version}",
        description="paved: TLS only, connections logged",
        parameters=[
            aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
            aws.rds.ParameterGroupParameterArgs(name="log_connections", value="1"),
        ],
        tags=tags,
    )


def database_args(service: Service, settings: StackSettings, key_arn: pulumi.Input[str],
                  subnet_group: pulumi.Input[str], security_group: pulumi.Input[str],
                  parameter_group: pulumi.Input[str], tags: dict[str, str]) -> aws.rds.InstanceArgs:
    """The RDS instance: private, encrypted with the service's key, IAM auth, RDS-managed master password."""
    pg = service.data.postgres
    data = settings.data
    identifier = database_identifier(settings.environment, secret_owner(service))
    protect = settings.protect_stateful
    return aws.rds.InstanceArgs(
        identifier=identifier,
        engine="postgres",
        engine_version=pg.engine_version,
        auto_minor_version_upgrade=True,
        allow_major_version_upgrade=False,
        instance_class=pg.instance_class,
        allocated_storage=pg.storage_gb,
        max_allocated_storage=pg.max_storage_gb,
        storage_type=STORAGE_TYPE,
        storage_encrypted=True,
        kms_key_id=key_arn,
        db_name=database_name(secret_owner(service)),
        username=MASTER_USER,
        manage_master_user_password=True,
        master_user_secret_kms_key_id=key_arn,
        iam_database_authentication_enabled=True,
        parameter_group_name=parameter_group,
        db_subnet_group_name=subnet_group,
        vpc_security_group_ids=[security_group],
        publicly_accessible=False,
        port=POSTGRES_PORT,
        ca_cert_identifier=RDS_CA,
        multi_az=data.multi_az,
        backup_retention_period=data.backup_retention_days,
        backup_window=BACKUP_WINDOW,
        maintenance_window=MAINTENANCE_WINDOW,
        copy_tags_to_snapshot=True,
        delete_automated_backups=not protect,
        deletion_protection=protect,
        skip_final_snapshot=not protect,
        final_snapshot_identifier=f"{identifier}-final" if protect else None,
        enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
        apply_immediately=False,
        tags=tags,
    )


def _attributes(table: Table) -> list[aws.dynamodb.TableAttributeArgs]:
    keys = [table.hash_key, table.range_key]
    keys += [k for g in table.gsis for k in (g.hash_key, g.range_key)]
    seen: dict[str, str] = {}
    for key in keys:
        if key is not None:
            seen.setdefault(key.name, key.type)
    return [aws.dynamodb.TableAttributeArgs(name=n, type=t) for n, t in seen.items()]


def table_args(environment: str, table: Table, key_arn: pulumi.Input[str], protect: bool,
               tags: dict[str, str]) -> aws.dynamodb.TableArgs:
    """A DynamoDB table: on-demand unless provisioned, PITR, the service's key, TTL, GSIs."""
    provisioned = table.capacity is not None
    return aws.dynamodb.TableArgs(
        name=table_name(environment, table.name),
        billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
        read_capacity=table.capacity.read if provisioned else None,
        write_capacity=table.capacity.write if provisioned else None,
        hash_key=table.hash_key.name,
        range_key=table.range_key.name if table.range_key else None,
        attributes=_attributes(table),
        global_secondary_indexes=[
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=g.name, key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=k.name, key_type=kind)
                    for k, kind in ((g.hash_key, "HASH"), (g.range_key, "RANGE")) if k is not None],
                projection_type=g.projection,
                read_capacity=table.capacity.read if provisioned else None,
                write_capacity=table.capacity.write if provisioned else None)
            for g in table.gsis] or None,
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=key_arn),
        ttl=aws.dynamodb.TableTtlArgs(attribute_name=table.ttl, enabled=True) if table.ttl else None,
        deletion_protection_enabled=protect,
        tags=tags,
    )


def cache_user_args(environment: str, service: str, cache: Cache, tags: dict[str, str]) -> aws.elasticache.UserArgs:
    """The service's cache user: IAM authentication (user id and name alike, as ElastiCache IAM
    auth requires), every command but the dangerous ones."""
    name = cache_name(environment, service)
    return aws.elasticache.UserArgs(
        user_id=name, user_name=name, engine=cache.engine,
        access_string="on ~* +@all -@dangerous",
        authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
        tags=tags,
    )


def default_cache_user_args(environment: str, service: str, cache: Cache,
                            tags: dict[str, str]) -> aws.elasticache.UserArgs:
    """The ``default`` user a user group must hold, switched off: nobody connects without IAM."""
    return aws.elasticache.UserArgs(
        user_id=_short(f"{cache_name(environment, service)}-off", MAX_CACHE_NAME), user_name="default",
        engine=cache.engine, access_string="off -@all",
        authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="no-password-required"),
        tags=tags,
    )


def serverless_cache_args(settings: StackSettings, service: str, cache: Cache, key_arn: pulumi.Input[str],
                          subnet_ids: pulumi.Input[list], security_group: pulumi.Input[str],
                          user_group: pulumi.Input[str], tags: dict[str, str]) -> aws.elasticache.ServerlessCacheArgs:
    """ElastiCache Serverless (TLS always on), encrypted with the service's key, IAM users only."""
    return aws.elasticache.ServerlessCacheArgs(
        name=cache_name(settings.environment, service),
        engine=cache.engine,
        major_engine_version=cache.major_version,
        description=f"paved: cache of {service}",
        kms_key_id=key_arn,
        subnet_ids=subnet_ids,
        security_group_ids=[security_group],
        user_group_id=user_group,
        cache_usage_limits=aws.elasticache.ServerlessCacheCacheUsageLimitsArgs(
            data_storage=aws.elasticache.ServerlessCacheCacheUsageLimitsDataStorageArgs(
                maximum=cache.max_storage_gb, unit="GB"),
            ecpu_per_seconds=[aws.elasticache.ServerlessCacheCacheUsageLimitsEcpuPerSecondArgs(
                maximum=cache.max_ecpu_per_second)],
        ),
        daily_snapshot_time=CACHE_SNAPSHOT_TIME,
        snapshot_retention_limit=settings.data.backup_retention_days,
        tags=tags,
    )


def cache_node_ids(environment: str, service: str, count: int) -> list[str]:
    """The member clusters (nodes) of a replication group: ElastiCache names them
    ``<replication group id>-001``, ``-002``, ... (the CacheClusterId of their metrics)."""
    return [f"{cache_name(environment, service)}-{i:03d}" for i in range(1, count + 1)]


def cache_subnet_group_args(environment: str, service: str, subnet_ids: pulumi.Input[list],
                            tags: dict[str, str]) -> aws.elasticache.SubnetGroupArgs:
    """The replication group's private subnets."""
    return aws.elasticache.SubnetGroupArgs(name=cache_name(environment, service), subnet_ids=subnet_ids,
                                           description=f"paved: private subnets of {service}'s cache", tags=tags)


def replication_group_args(settings: StackSettings, service: str, cache: Cache, key_arn: pulumi.Input[str],
                           subnet_group: pulumi.Input[str], security_group: pulumi.Input[str],
                           user_group: pulumi.Input[str], tags: dict[str, str]) -> aws.elasticache.ReplicationGroupArgs:
    """A node-based cache (cluster mode disabled): ``cacheNodes.count`` nodes of ``cacheNodes.nodeType``,
    TLS required, encrypted at rest with the service's key, IAM users only; with 2+ nodes automatic
    failover, across zones where the stack is multi-AZ; a final snapshot in protected stacks."""
    nodes = settings.data.cache_nodes
    if nodes is None:
        raise ValueError("replication_group_args needs paved:data.cacheNodes (cacheMode: nodes)")
    group_id = cache_name(settings.environment, service)
    failover = nodes.count >= 2
    return aws.elasticache.ReplicationGroupArgs(
        replication_group_id=group_id,
        description=f"paved: cache of {service}",
        engine=cache.engine,
        engine_version=CACHE_NODE_ENGINE_VERSIONS[cache.engine],
        node_type=nodes.node_type,
        num_cache_clusters=nodes.count,
        automatic_failover_enabled=failover,
        multi_az_enabled=failover and settings.data.multi_az,
        transit_encryption_enabled=True,
        transit_encryption_mode="required",
        at_rest_encryption_enabled=True,
        kms_key_id=key_arn,
        user_group_ids=[user_group],
        subnet_group_name=subnet_group,
        security_group_ids=[security_group],
        port=CACHE_PORTS[0],
        snapshot_retention_limit=settings.data.backup_retention_days,
        snapshot_window=BACKUP_WINDOW,
        maintenance_window=MAINTENANCE_WINDOW,
        final_snapshot_identifier=f"{group_id}-final" if settings.protect_stateful else None,
        auto_minor_version_upgrade=True,
        apply_immediately=False,
        tags=tags,
    )


# Memory of the instance classes paved's stacks allow, GiB: RDS for PostgreSQL sets
# max_connections to LEAST(DBInstanceClassMemory / 9531392, 5000), so the connections alarm
# fires at 80% of that (DBInstanceClassMemory is a little below the nominal memory: approximate).
CLASS_MEMORY_GIB = {"db.t4g.micro": 1, "db.t4g.small": 2, "db.t4g.medium": 4, "db.t4g.large": 8,
                    "db.m7g.large": 8, "db.m7g.xlarge": 16, "db.r7g.large": 16, "db.r7g.xlarge": 32}
ALARM_PERIOD = 300
# A cache evicts under memory pressure by design; sustained evictions beyond this mean its nodes
# are too small for the working set.
CACHE_EVICTIONS_PER_MINUTE = 100.0


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm on a datastore metric."""

    role: str  # the child's role: <name>-alarm-<role>
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str
    comparison: str
    threshold: float
    description: str


def database_alarms(environment: str, service: Service) -> list[AlarmSpec]:
    """CPU, free storage and connections of the service's database."""
    pg = service.data.postgres
    dims = {"DBInstanceIdentifier": database_identifier(environment, secret_owner(service))}
    alarms = [
        AlarmSpec("db-cpu", "AWS/RDS", "CPUUtilization", dims, "Average", "GreaterThanThreshold", 80,
                  "database CPU above 80% for 15 minutes"),
        AlarmSpec("db-free-storage", "AWS/RDS", "FreeStorageSpace", dims, "Minimum", "LessThanThreshold",
                  float(pg.storage_gb * 2**30 // 10), "free storage below 10% of the allocated storage"),
    ]
    memory = CLASS_MEMORY_GIB.get(pg.instance_class)
    if memory is not None:
        limit = min(memory * 2**30 // 9531392, 5000)
        alarms.append(AlarmSpec("db-connections", "AWS/RDS", "DatabaseConnections", dims, "Maximum",
                                "GreaterThanThreshold", float(limit * 8 // 10),
                                f"connections above 80% of max_connections (about {limit})"))
    return alarms


def cache_alarms(environment: str, service: Service, nodes: CacheNodes | None = None) -> list[AlarmSpec]:
    """Serverless: storage and compute near their limits (ElastiCache throttles beyond). Nodes
    (``nodes`` given): per node, host and engine CPU, memory, and evictions."""
    cache = service.data.cache
    if nodes is not None:
        return [spec for node in cache_node_ids(environment, secret_owner(service), nodes.count)
                for spec in _node_alarms(node)]
    dims = {"clusterId": cache_name(environment, secret_owner(service))}
    return [
        AlarmSpec("cache-storage", "AWS/ElastiCache", "BytesUsedForCache", dims, "Maximum", "GreaterThanThreshold",
                  float(cache.max_storage_gb * 10**9 * 8 // 10), "cache data above 80% of its storage limit"),
        AlarmSpec("cache-ecpu", "AWS/ElastiCache", "ElastiCacheProcessingUnits", dims, "Sum", "GreaterThanThreshold",
                  float(cache.max_ecpu_per_second * 60 * 8 // 10), "ECPUs above 80% of the limit"),
    ]


def _node_alarms(node: str) -> list[AlarmSpec]:
    dims = {"CacheClusterId": node}
    n = node.rsplit("-", 1)[1]
    return [
        AlarmSpec(f"cache-{n}-cpu", "AWS/ElastiCache", "CPUUtilization", dims, "Average", "GreaterThanThreshold", 90,
                  f"cache node {n} host CPU above 90%"),
        # Valkey/Redis run commands on one thread: its CPU saturates before the host's.
        AlarmSpec(f"cache-{n}-engine-cpu", "AWS/ElastiCache", "EngineCPUUtilization", dims, "Average",
                  "GreaterThanThreshold", 80, f"cache node {n} engine CPU above 80%"),
        AlarmSpec(f"cache-{n}-memory", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims, "Maximum",
                  "GreaterThanThreshold", 80, f"cache node {n} memory above 80% of maxmemory"),
        AlarmSpec(f"cache-{n}-evictions", "AWS/ElastiCache", "Evictions", dims, "Sum", "GreaterThanThreshold",
                  CACHE_EVICTIONS_PER_MINUTE, f"cache node {n} evicting more than {CACHE_EVICTIONS_PER_MINUTE:.0f} "
                  "keys a minute (memory too small for the working set)"),
    ]


def alarm_args(environment: str, service: Service, spec: AlarmSpec, tags: dict[str, str]) -> aws.cloudwatch.MetricAlarmArgs:
    """A CloudWatch alarm: three periods in breach; missing data is not a breach (a stopped dev database)."""
    return aws.cloudwatch.MetricAlarmArgs(
        name=f"paved-{environment}-{secret_owner(service)}-{spec.role}",
        alarm_description=f"paved: {service.name} {spec.description}",
        namespace=spec.namespace, metric_name=spec.metric, dimensions=spec.dimensions, statistic=spec.statistic,
        comparison_operator=spec.comparison, threshold=spec.threshold,
        period=ALARM_PERIOD if spec.namespace == "AWS/RDS" else 60, evaluation_periods=3,
        treat_missing_data="notBreaching", tags=tags,
    )


def data_statements(service: Service, region: str, partition: str, account_id: str, key_arn: str,
                    db_resource_id: str | None, table_arns: list[str], cache_arns: list[str]) -> list[dict[str, Any]]:
    """The service role's rights on its own datastores, and nothing else's."""
    statements: list[dict[str, Any]] = []
    if db_resource_id is not None:
        user = database_name(secret_owner(service))
        statements.append({"Sid": "ConnectToOwnDatabase", "Effect": "Allow", "Action": "rds-db:connect",
                           "Resource": f"arn:{partition}:rds-db:{region}:{account_id}:dbuser:{db_resource_id}/{user}"})
    if table_arns:
        statements.append({"Sid": "UseOwnTables", "Effect": "Allow", "Action": [
            "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
            "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
            "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"], "Resource": sorted(table_arns)})
        statements.append({"Sid": "QueryOwnIndexes", "Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:Scan"],
                           "Resource": sorted(f"{arn}/index/*" for arn in table_arns)})
        statements.append({"Sid": "UseOwnDataKeyThroughDynamoDB", "Effect": "Allow",
                           "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                           "Resource": key_arn,
                           "Condition": {"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}}})
    if cache_arns:
        statements.append({"Sid": "ConnectToOwnCache", "Effect": "Allow", "Action": "elasticache:Connect",
                           "Resource": sorted(cache_arns)})
    return statements


def master_secret_statements(secret_arn: str, key_arn: str, region: str) -> list[dict[str, Any]]:
    """What the team's External Secrets role may do with one database's master user secret: read
    exactly it, and decrypt it with the service's data key through Secrets Manager only."""
    return [
        {"Sid": "ReadDatabaseMasterSecret", "Effect": "Allow",
         "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], "Resource": secret_arn},
        {"Sid": "DecryptDatabaseMasterSecret", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
    ]


def delivers_master_secret(service: Service) -> bool:
    """Whether the service's migration Job gets its database's master user secret (it has one Job)."""
    data = service.data
    return data is not None and data.postgres is not None and data.postgres.migrate is not None


def data_env(service: Service, environment: str, region: str, db_address: pulumi.Input[str] | None,
             cache_address: pulumi.Input[str] | None,
             dynamodb_endpoint_url: pulumi.Input[str] | None = None,
             cache_kind: str = "serverless") -> dict[str, pulumi.Input[str]]:
    """The variables of docs/data-contract.md (names fixed: services code against them).

    ``dynamodb_endpoint_url`` (``https://`` + the interface endpoint's DNS name) becomes
    ``AWS_ENDPOINT_URL_DYNAMODB``, the service-specific endpoint variable botocore and the other
    AWS SDKs read, so an unchanged SDK client reaches DynamoDB through the VPC endpoint."""
    data = service.data
    # Every datastore's client signs for the region (DynamoDB requests, RDS and ElastiCache IAM
    # tokens), and Pod Identity, unlike IRSA, does not set it.
    env: dict[str, pulumi.Input[str]] = {"AWS_REGION": region}
    if data.postgres is not None:
        env.update({
            "PGHOST": db_address, "PGPORT": str(POSTGRES_PORT), "PGDATABASE": database_name(secret_owner(service)),
            "PGUSER": database_name(secret_owner(service)), "PGSSLMODE": "verify-full", "PGSSLROOTCERT": RDS_CA_BUNDLE,
            "PAVED_DB_AUTH": "iam",
        })
    if data.tables:
        if dynamodb_endpoint_url is not None:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint_url
    for table in data.tables:
        env[table_env_name(table.name)] = table_name(environment, table.name)
    if data.cache is not None:
        # The IAM token is signed for the cache's name and the user's id (alike here, as
        # ElastiCache IAM auth requires of the user); serverless tokens name ResourceType, a
        # replication group's (``cache_kind`` "nodes", paved:data.cacheMode) do not.
        name = cache_name(environment, secret_owner(service))
        env.update({"PAVED_CACHE_HOST": cache_address, "PAVED_CACHE_PORT": str(CACHE_PORTS[0]),
                    "PAVED_CACHE_TLS": "true", "PAVED_CACHE_USER": name, "PAVED_CACHE_NAME": name,
                    "PAVED_CACHE_KIND": cache_kind, "PAVED_CACHE_AUTH": "iam"})
    return env


def data_ports(service: Service) -> tuple[int, ...]:
    """TCP ports the service's pods reach its datastores on, inside the VPC."""
    data = service.data
    ports: list[int] = []
    if data.postgres is not None:
        ports.append(POSTGRES_PORT)
    if data.tables:
        # IRSA's credentials egress happens to allow it too; Pod Identity's does not.
        ports.append(DYNAMODB_ENDPOINT_PORT)
    if data.cache is not None:
        ports += CACHE_PORTS
    return tuple(ports)


class ServiceData(pulumi.ComponentResource):
    """The service's key, database, tables and cache; ``wiring`` and ``statements`` for its pods and role."""

    key_arn: pulumi.Output[str]
    statements: pulumi.Output[list]
    wiring: DataWiring

    def __init__(self, name: str, args: ServiceDataArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:data:ServiceData", name, None, opts)
        svc, s, data = args.service, args.settings, args.service.data
        self.paved_service = svc.name
        self.paved_team = args.team.name
        env = s.environment
        # Physical names and descriptions use the service's first name (as its secrets do): a
        # rename must not replace a database. Logical names are aliased to the former ones.
        owner = secret_owner(svc)

        def aliases(role: str) -> list[pulumi.Alias]:
            return former_aliases(svc, role, within=name)

        def child(role: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, aliases=aliases(role))

        key = customer_key(name, f"data of {owner} ({env})", s.kms_deletion_window_days, self,
                           tags=args.tags, aliases=aliases)

        def security_group(role: str, ports: tuple[int, ...], what: str) -> aws.ec2.SecurityGroup:
            group = aws.ec2.SecurityGroup(f"{name}-{role}-sg", aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id, description=f"paved: {what} of {owner}, from the cluster's nodes only",
                tags=args.tags), opts=child(f"{role}-sg"))
            aws.vpc.SecurityGroupIngressRule(f"{name}-{role}-from-nodes", aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=group.id, referenced_security_group_id=args.node_security_group_id,
                ip_protocol="tcp", from_port=min(ports), to_port=max(ports),
                description=f"{what} from the EKS nodes (pods are narrowed by their NetworkPolicy)", tags=args.tags),
                opts=child(f"{role}-from-nodes"))
            return group

        db_resource_id = None
        db_address = None
        master_secret_arn = None
        if data.postgres is not None:
            subnets = aws.rds.SubnetGroup(f"{name}-db-subnets", aws.rds.SubnetGroupArgs(
                subnet_ids=args.subnet_ids, description=f"paved: private subnets of {owner}'s database",
                tags=args.tags), opts=child("db-subnets"))
            params = aws.rds.ParameterGroup(f"{name}-db-params", parameter_group_args(data.postgres, args.tags),
                                            opts=child("db-params"))
            group = security_group("db", (POSTGRES_PORT,), "PostgreSQL")
            db = aws.rds.Instance(f"{name}-db", database_args(
                svc, s, key.arn, subnets.name, group.id, params.name, args.tags), opts=child("db"))
            db_resource_id, db_address = db.resource_id, db.address
            if delivers_master_secret(svc):
                master_secret_arn = db.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)

        table_arns = []
        for table in data.tables:
            created = aws.dynamodb.Table(f"{name}-table-{table.name}", table_args(
                env, table, key.arn, s.protect_stateful, args.tags), opts=child(f"table-{table.name}"))
            table_arns.append(created.arn)

        cache_arns: list = []
        cache_address = None
        if data.cache is not None:
            group = security_group("cache", CACHE_PORTS, "Valkey/Redis")
            user = aws.elasticache.User(f"{name}-cache-user", cache_user_args(env, owner, data.cache, args.tags),
                                        opts=child("cache-user"))
            off = aws.elasticache.User(f"{name}-cache-default-user",
                                       default_cache_user_args(env, owner, data.cache, args.tags),
                                       opts=child("cache-default-user"))
            users = aws.elasticache.UserGroup(f"{name}-cache-users", aws.elasticache.UserGroupArgs(
                user_group_id=cache_name(env, owner), engine=data.cache.engine,
                user_ids=[user.user_id, off.user_id], tags=args.tags), opts=child("cache-users"))
            if s.data.cache_mode == "nodes":
                cache_subnets = aws.elasticache.SubnetGroup(f"{name}-cache-subnets", cache_subnet_group_args(
                    env, owner, args.subnet_ids, args.tags), opts=child("cache-subnets"))
                nodes = aws.elasticache.ReplicationGroup(f"{name}-cache-nodes", replication_group_args(
                    s, owner, data.cache, key.arn, cache_subnets.name, group.id, users.user_group_id, args.tags),
                    opts=child("cache-nodes"))
                cache_arns = [nodes.arn, user.arn]
                cache_address = nodes.primary_endpoint_address
            else:
                cache = aws.elasticache.ServerlessCache(f"{name}-cache", serverless_cache_args(
                    s, owner, data.cache, key.arn, args.subnet_ids, group.id, users.user_group_id, args.tags),
                    opts=child("cache"))
                cache_arns = [cache.arn, user.arn]
                cache_address = cache.endpoints.apply(lambda eps: eps[0].address if eps else None)

        specs = (database_alarms(env, svc) if data.postgres is not None else []) + (
            cache_alarms(env, svc, s.data.cache_nodes if s.data.cache_mode == "nodes" else None)
            if data.cache is not None else [])
        for spec in specs:
            aws.cloudwatch.MetricAlarm(f"{name}-alarm-{spec.role}", alarm_args(env, svc, spec, args.tags),
                                       opts=child(f"alarm-{spec.role}"))
        endpoint_url = None
        if data.tables and args.dynamodb_endpoint_dns is not None:
            endpoint_url = pulumi.Output.from_input(args.dynamodb_endpoint_dns).apply(lambda dns: f"https://{dns}")
        self.wiring = DataWiring(env=data_env(svc, env, s.aws_region, db_address, cache_address, endpoint_url,
                                              s.data.cache_mode),
                                 ports=data_ports(svc),
                                 migrate=data.postgres.migrate if data.postgres is not None else None,
                                 master_secret_arn=master_secret_arn, key_arn=key.arn)
        self.key_arn = key.arn
        self.statements = pulumi.Output.all(args.partition, args.account_id, key.arn, db_resource_id,
                                            pulumi.Output.all(*table_arns), pulumi.Output.all(*cache_arns)).apply(
            lambda v: data_statements(svc, s.aws_region, v[0], v[1], v[2], v[3], list(v[4]), list(v[5])))
        self.register_outputs({"key_arn": self.key_arn, "statements": self.statements})


def service_data(service: Service, team: Team, settings: StackSettings, network: Any, cluster: Any,
                 account_id: pulumi.Input[str], partition: pulumi.Input[str], tags: dict[str, str],
                 opts: pulumi.ResourceOptions) -> ServiceData | None:
    """The service's ServiceData (named ``<service>-data``), or None when it declares no ``data``."""
    if service.data is None or service.data.empty:
        return None
    return ServiceData(f"{service.name}-data", ServiceDataArgs(
        service=service, team=team, settings=settings, vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids,
        node_security_group_id=cluster.node_security_group_id, account_id=account_id, partition=partition,
        tags=tags, dynamodb_endpoint_dns=network.dynamodb_endpoint_dns if settings.network.mode == "create" else None),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=former_aliases(service, "data"))))
