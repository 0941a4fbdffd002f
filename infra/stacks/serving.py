"""Serving: the DynamoDB store, the Cognito pool, and the recommendation API (Lambda + Mangum).

Tables and keys follow ``newslake/store.py``; the resource server's scopes are the ones
``serving/authz.py`` checks (``newslake/recommendations.read``, ``newslake/portal.<p>``,
``newslake/privacy.erase``, ``newslake/editorial.write``).
Tokens are checked by the app itself (``serving/auth.py``), not by an API Gateway
authorizer: ``/healthz`` and ``/readyz`` stay open and a reader's 401/403 answers keep the
app's JSON shape.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import InfraConfig
from infra.stacks.common import dependencies_layer, python_function, retention
from infra.stacks.security import SecurityStack
from newslake.store import TTL_ATTRIBUTE, controls_key, controls_log_key


class ServingStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: InfraConfig,
        security: SecurityStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        s = config.settings
        key = security.keys.dynamodb
        self.recommendations_table = self._table(
            "RecommendationsTable",
            s.recommendations_table,
            key,
            partition="pk",
            sort="sk",
            ttl=TTL_ATTRIBUTE,
        )
        self.versions_table = self._table(
            "VersionsTable", s.versions_table, key, partition="portal"
        )
        # privacy: erasure requests by the reader's pseudonym (newslake/privacy.py), and the
        # pseudonyms' key, generated here and never in a template (a dynamic reference)
        self.privacy_requests_table = self._table(
            "PrivacyRequestsTable", s.privacy_requests_table, key, partition="subject"
        )
        self.privacy_key = secretsmanager.Secret(
            self,
            "PrivacyHashKey",
            description="NEWSLAKE_PRIVACY_HASH_KEY: the key of the readers' pseudonyms",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.user_pool, self.client_ids, self.domain = self._cognito(config)
        self.function = self._function(config, security)
        self.api = self._api(config)

        outputs = {
            "CognitoUserPoolId": (self.user_pool.user_pool_id, "NEWSLAKE_COGNITO_USER_POOL_ID"),
            "CognitoClientIds": (
                cdk.Fn.join(",", self.client_ids),
                "NEWSLAKE_COGNITO_CLIENT_IDS (web client first, then the machine client)",
            ),
            "CognitoIssuer": (
                f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool.user_pool_id}",
                "NEWSLAKE_COGNITO_ISSUER (also the default derived from the pool id)",
            ),
            "CognitoTokenUrl": (
                self.domain.base_url() + "/oauth2/token",
                "token endpoint for the machine client (client credentials)",
            ),
            "RecommendationsTableName": (self.recommendations_table.table_name, "table"),
            "VersionsTableName": (self.versions_table.table_name, "table"),
            "PrivacyRequestsTableName": (self.privacy_requests_table.table_name, "table"),
            "PrivacyHashKeySecretArn": (
                self.privacy_key.secret_arn,
                "NEWSLAKE_PRIVACY_HASH_KEY_SECRET for jobs (the nightly role may read it)",
            ),
            "ServingApiUrl": (self.api.url, "recommendation API base URL"),
        }
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)

    def _table(
        self,
        construct_id: str,
        name: str,
        key,
        *,
        partition: str,
        sort: str | None = None,
        ttl: str | None = None,
    ) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        return dynamodb.Table(
            self,
            construct_id,
            table_name=name,
            partition_key=dynamodb.Attribute(name=partition, type=string),
            sort_key=dynamodb.Attribute(name=sort, type=string) if sort else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            time_to_live_attribute=ttl,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _readers(self, config: InfraConfig) -> cognito.UserPool:
        """The readers' user pool: no self sign-up, kept when the stack goes."""
        return cognito.UserPool(
            self,
            "Readers",
            user_pool_name=config.settings.user_pool_name,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=False,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _cognito(
        self, config: InfraConfig
    ) -> tuple[cognito.UserPool, list[str], cognito.UserPoolDomain]:
        s = config.settings
        pool = self._readers(config)
        read = cognito.ResourceServerScope(
            scope_name=config.read_scope_name,
            scope_description="read recommendations (machine clients also need a portal scope)",
        )
        portal_scopes = [
            cognito.ResourceServerScope(
                scope_name=config.portal_scope_name(p),
                scope_description=f"read portal {p}",
            )
            for p in config.portals
        ]
        erase = cognito.ResourceServerScope(
            scope_name=config.privacy_scope_name, scope_description="ask for a reader's erasure"
        )
        # editorial: the newsroom's controls (newslake/editorial.py)
        editorial = cognito.ResourceServerScope(
            scope_name=s.editorial_write_scope.split("/", 1)[1],
            scope_description="block and promote articles (with the portal's scope)",
        )
        server = pool.add_resource_server(
            "Api",
            identifier=config.scope_identifier,
            user_pool_resource_server_name=f"{config.prefix}-api",
            scopes=[read, *portal_scopes, erase, editorial],
        )
        web = pool.add_client(
            "WebClient",
            user_pool_client_name=s.app_client_name,
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            access_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
        )
        clients = [web.user_pool_client_id]
        for construct_id, name, scopes in (
            ("MachineClient", f"{config.prefix}-machine", (read, *portal_scopes)),
            # privacy: erasure requests take a client of their own, so no reading client can ask
            ("PrivacyClient", f"{config.prefix}-privacy", (erase,)),
            # editorial: so does the newsroom, which reads no recommendations
            ("EditorialClient", s.editorial_client_name, (editorial, *portal_scopes)),
        ):
            granted = [cognito.OAuthScope.resource_server(server, scope) for scope in scopes]
            clients.append(
                self._machine_client(pool, construct_id, name, granted).user_pool_client_id
            )
        domain = pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=config.cognito_domain_prefix),
        )
        return pool, clients, domain

    def _machine_client(
        self,
        pool: cognito.UserPool,
        construct_id: str,
        name: str,
        scopes: list[cognito.OAuthScope],
    ) -> cognito.UserPoolClient:
        """A client-credentials client holding ``scopes`` and nothing else."""
        return pool.add_client(
            construct_id,
            user_pool_client_name=name,
            generate_secret=True,
            auth_flows=cognito.AuthFlow(),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True), scopes=scopes
            ),
            access_token_validity=cdk.Duration.hours(1),
        )

    def _function(self, config: InfraConfig, security: SecurityStack) -> lambda_.Function:
        fn = python_function(
            self,
            "RecommendationsFunction",
            config=config,
            name=f"{config.prefix}-recommendations",
            handler="serving.lambda_handler.handler",
            description="GET /v1/... recommendations (FastAPI via Mangum)",
            environment={
                "NEWSLAKE_COGNITO_USER_POOL_ID": self.user_pool.user_pool_id,
                "NEWSLAKE_COGNITO_CLIENT_IDS": cdk.Fn.join(",", self.client_ids),
                # resolved by CloudFormation at deploy time: the template holds a reference
                "NEWSLAKE_PRIVACY_HASH_KEY": self.privacy_key.secret_value.unsafe_unwrap(),
            },
            layer=dependencies_layer(self, config),
            timeout_s=10,
            memory_mb=1024,
            vpc=security.vpc,
        )
        self.recommendations_table.grant_read_data(fn)
        self.versions_table.grant_read_data(fn)
        # privacy: the erasure route records and reads requests, nothing else
        self.privacy_requests_table.grant(fn, "dynamodb:GetItem", "dynamodb:UpdateItem")
        # editorial: the controls route writes a control and its log item in one transaction,
        # and only items under the portals' controls keys
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
                resources=[self.recommendations_table.table_arn],
                conditions={
                    "ForAllValues:StringLike": {
                        "dynamodb:LeadingKeys": [controls_key("*"), controls_log_key("*")]
                    }
                },
            )
        )
        security.keys.dynamodb.grant_encrypt_decrypt(fn)
        return fn

    def _api(self, config: InfraConfig) -> apigateway.LambdaRestApi:
        access_logs = logs.LogGroup(
            self,
            "ServingApiAccessLogs",
            retention=retention(config),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        return apigateway.LambdaRestApi(
            self,
            "ServingApi",
            rest_api_name=f"{config.prefix}-recommendations-api",
            handler=self.function,
            proxy=True,
            cloud_watch_role=False,  # the account's log role is in the security stack
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            deploy_options=apigateway.StageOptions(
                stage_name=config.env_name,
                throttling_rate_limit=config.serving_api_rate,
                throttling_burst_limit=config.serving_api_burst,
                metrics_enabled=True,
                tracing_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
