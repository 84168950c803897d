using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.OpenSearchService;
using Constructs;

namespace Retail.Hosting.Cdk;

/// <summary>Where the domain and UpsertToES meet in VPC mode.</summary>
internal sealed record SearchNetworkResources(IVpc Vpc, ISubnet[] Subnets, ISecurityGroup UpsertSecurityGroup, ISecurityGroup DomainSecurityGroup);

public sealed partial class RetailPipeline
{
    /// <summary>The HTTP actions a caller of the domain may be granted.</summary>
    private static readonly string[] SearchHttpActions =
        ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"];

    /// <summary>The domain's ARN from its literal name (no reference to the domain resource, so policies that name it create no cycle).</summary>
    private string SearchDomainArn(RetailPipelineProps props) =>
        Stack.Of(this).FormatArn(new ArnComponents { Service = "es", Resource = "domain", ResourceName = props.SearchDomainName });

    /// <summary>
    /// The OpenSearch domain (an L1 resource: the L2's access-policy and logging options add custom-resource Lambdas): fine-grained
    /// access control with an IAM master, node-to-node and at-rest encryption, HTTPS only with TLS 1.2, gp3 volumes; in a VPC
    /// reachable on 443 from UpsertToES's security group only, or on a public endpoint answering only the allowed ranges.
    /// </summary>
    private (CfnDomain, string) CreateSearch(Construct scope, RetailPipelineProps props, IRole upsertRole, out SearchNetworkResources? network)
    {
        int zones = props.SearchInstanceCount > 1 ? 2 : 1;
        network = null;
        CfnDomain.VPCOptionsProperty? vpcOptions = null;
        if (props.SearchNetwork == RetailSearchNetwork.Vpc)
        {
            var vpc = props.SearchVpc ?? new Vpc(scope, "Vpc", new VpcProps
            {
                MaxAzs = 2,
                NatGateways = 0,
                RestrictDefaultSecurityGroup = false,   // true adds a custom-resource Lambda
                SubnetConfiguration = [new SubnetConfiguration { Name = "search", SubnetType = SubnetType.PRIVATE_ISOLATED, CidrMask = 24 }],
                // UpsertToES writes dead letters to the lake: S3 through a gateway endpoint, no internet route.
                GatewayEndpoints = new Dictionary<string, IGatewayVpcEndpointOptions>
                {
                    ["S3"] = new GatewayVpcEndpointOptions { Service = GatewayVpcEndpointAwsService.S3 },
                },
            });
            var subnets = vpc.SelectSubnets(new SubnetSelection { OnePerAz = true }).Subnets.Take(zones).ToArray();
            var domainGroup = new SecurityGroup(scope, "DomainSecurityGroup", new SecurityGroupProps
            {
                Vpc = vpc, AllowAllOutbound = false, Description = "Retail OpenSearch domain: HTTPS from UpsertToES only",
            });
            var upsertGroup = new SecurityGroup(scope, "UpsertSecurityGroup", new SecurityGroupProps
            {
                Vpc = vpc, AllowAllOutbound = true, Description = "Retail UpsertToES: to the domain and S3",
            });
            domainGroup.AddIngressRule(upsertGroup, Port.Tcp(443), "UpsertToES to OpenSearch over HTTPS");
            network = new SearchNetworkResources(vpc, subnets, upsertGroup, domainGroup);
            vpcOptions = new CfnDomain.VPCOptionsProperty
            {
                SubnetIds = [.. subnets.Select(s => s.SubnetId)],
                SecurityGroupIds = [domainGroup.SecurityGroupId],
            };
        }

        string domainArn = SearchDomainArn(props);
        // In a VPC only the VPC reaches the endpoint; a public endpoint answers the allowed ranges only. Every request is
        // then authorized by fine-grained access control.
        var access = new PolicyStatement(new PolicyStatementProps
        {
            Effect = Effect.ALLOW, Principals = [new AnyPrincipal()], Actions = SearchHttpActions, Resources = [domainArn + "/*"],
            Conditions = props.SearchNetwork == RetailSearchNetwork.Vpc ? null
                : new Dictionary<string, object> { ["IpAddress"] = new Dictionary<string, object> { ["aws:SourceIp"] = props.SearchAllowedCidrs.ToArray() } },
        });

        var domain = new CfnDomain(scope, "Domain", new CfnDomainProps
        {
            DomainName = props.SearchDomainName,
            EngineVersion = props.SearchEngineVersion,
            ClusterConfig = new CfnDomain.ClusterConfigProperty
            {
                InstanceType = props.SearchInstanceType,
                InstanceCount = props.SearchInstanceCount,
                ZoneAwarenessEnabled = zones > 1,
                ZoneAwarenessConfig = zones > 1 ? new CfnDomain.ZoneAwarenessConfigProperty { AvailabilityZoneCount = zones } : null,
                MultiAzWithStandbyEnabled = false,
            },
            EbsOptions = new CfnDomain.EBSOptionsProperty { EbsEnabled = true, VolumeType = "gp3", VolumeSize = props.SearchVolumeGiB },
            NodeToNodeEncryptionOptions = new CfnDomain.NodeToNodeEncryptionOptionsProperty { Enabled = true },
            EncryptionAtRestOptions = new CfnDomain.EncryptionAtRestOptionsProperty { Enabled = true },
            DomainEndpointOptions = new CfnDomain.DomainEndpointOptionsProperty
            {
                EnforceHttps = true, TlsSecurityPolicy = "Policy-Min-TLS-1-2-PFS-2023-10",
            },
            AdvancedSecurityOptions = new CfnDomain.AdvancedSecurityOptionsInputProperty
            {
                Enabled = true,
                InternalUserDatabaseEnabled = false,
                MasterUserOptions = new CfnDomain.MasterUserOptionsProperty { MasterUserArn = props.SearchMasterUserArn ?? upsertRole.RoleArn },
            },
            VpcOptions = vpcOptions,
            AccessPolicies = new PolicyDocument(new PolicyDocumentProps { Statements = [access] }),
        });
        domain.ApplyRemovalPolicy(RemovalPolicy.DESTROY);
        return (domain, domain.AttrDomainEndpoint);
    }

}
