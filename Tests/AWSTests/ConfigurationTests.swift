import KMeshSupport
import Testing

@testable import AWS

struct ConfigurationTests {
    let noFiles = SharedConfigFiles(credentials: [:], config: [:], profile: "default")

    @Test func regionComesFromAWSRegionThenDefaultRegionThenProfile() throws {
        let files = SharedConfigFiles(credentials: [:], config: ["default": ["region": "ap-south-1"]], profile: "default")
        #expect(
            try AWSConfiguration.resolve(
                environment: Environment(["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-2"]), files: files
            ).region == "eu-west-1")
        #expect(
            try AWSConfiguration.resolve(environment: Environment(["AWS_DEFAULT_REGION": "us-east-2"]), files: files).region == "us-east-2")
        #expect(try AWSConfiguration.resolve(environment: Environment(), files: files).region == "ap-south-1")
    }

    @Test func missingOrMalformedRegionIsAOneLineConfigurationError() {
        let missing = #expect(throws: AWSConfigurationError.self) {
            try AWSConfiguration.resolve(environment: Environment(), files: noFiles)
        }
        #expect(missing?.description.contains("AWS_REGION") == true)
        let bad = #expect(throws: AWSConfigurationError.self) {
            try AWSConfiguration.resolve(environment: Environment(["AWS_REGION": "EU West"]), files: noFiles)
        }
        #expect(bad?.description.contains("not a region name") == true)
    }

    @Test func endpointOverridesFollowTheSDKVariables() throws {
        let env = Environment([
            "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566/",
            "AWS_ENDPOINT_URL_ROUTE_53": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "https://sm.local",
        ])
        let c = try AWSConfiguration.resolve(environment: env, files: noFiles)
        #expect(c.endpoint(for: .ecs) == "http://127.0.0.1:4566")
        #expect(c.endpoint(for: .sts) == "http://127.0.0.1:4566")
        #expect(c.endpoint(for: .route53) == "http://127.0.0.1:5000")
        #expect(c.endpoint(for: .secretsManager) == "https://sm.local")

        let ignored = try AWSConfiguration.resolve(environment: env.with("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), files: noFiles)
        #expect(ignored.endpoint(for: .ecs) == "https://ecs.eu-west-1.amazonaws.com")
        #expect(ignored.endpoint(for: .route53) == "https://route53.amazonaws.com")

        let wrong = #expect(throws: AWSConfigurationError.self) {
            try AWSConfiguration.resolve(
                environment: Environment(["AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_ECS": "localhost:4566"]), files: noFiles)
        }
        #expect(wrong?.description.contains("AWS_ENDPOINT_URL_ECS") == true)
    }

    @Test func defaultEndpointsAndSigningRegions() {
        #expect(AWSService.secretsManager.defaultEndpoint(region: "us-west-2") == "https://secretsmanager.us-west-2.amazonaws.com")
        #expect(AWSService.ecs.defaultEndpoint(region: "cn-north-1") == "https://ecs.cn-north-1.amazonaws.com.cn")
        #expect(AWSService.route53.signingRegion(for: "eu-central-1") == "us-east-1")
        #expect(AWSService.route53.signingRegion(for: "cn-north-1") == "cn-northwest-1")
        #expect(AWSService.ecs.signingRegion(for: "eu-central-1") == "eu-central-1")
    }

    @Test func maxAttemptsFromEnvironment() throws {
        #expect(
            try AWSConfiguration.resolve(environment: Environment(["AWS_REGION": "eu-west-1", "AWS_MAX_ATTEMPTS": "7"]), files: noFiles)
                .retry.maxAttempts == 7)
        #expect(throws: AWSConfigurationError.self) {
            try AWSConfiguration.resolve(environment: Environment(["AWS_REGION": "eu-west-1", "AWS_MAX_ATTEMPTS": "0"]), files: noFiles)
        }
    }

    @Test func sharedFilesParseProfilesCommentsAndSubsections() {
        let text = """
            # comment
            [default]
            region = eu-west-1
            [profile ops]
            region=us-east-2 ; trailing comment
            aws_access_key_id = AKIDOPS
            s3 =
              max_concurrent_requests = 20
            [sso-session corp]
            sso_region = us-east-1
            """
        let parsed = SharedConfigFiles.parse(text, configStyle: true)
        #expect(parsed["default"]?["region"] == "eu-west-1")
        #expect(parsed["ops"]?["region"] == "us-east-2")
        #expect(parsed["ops"]?["aws_access_key_id"] == "AKIDOPS")
        #expect(parsed["ops"]?["max_concurrent_requests"] == nil)
        #expect(parsed["corp"] == nil && parsed["sso-session corp"] == nil)
        // In the credentials file, section names are bare profile names.
        #expect(SharedConfigFiles.parse("[ops]\naws_access_key_id=A", configStyle: false)["ops"]?["aws_access_key_id"] == "A")
    }

    @Test func endpointURLKeepsNonDefaultPortsAndDropsDefaultOnes() {
        #expect(EndpointURL("http://127.0.0.1:5000").hostHeader == "127.0.0.1:5000")
        #expect(EndpointURL("https://ecs.eu-west-1.amazonaws.com:443/").hostHeader == "ecs.eu-west-1.amazonaws.com")
        #expect(EndpointURL("http://proxy.local/aws/").basePath == "/aws")
    }

    @Test func backoffIsFullJitterCappedExponential() {
        var r = RetryConfiguration()
        r.baseDelay = .seconds(1)
        r.maxBackoff = .seconds(20)
        #expect(r.delay(forRetry: 1, random: 1) == .seconds(1))
        #expect(r.delay(forRetry: 3, random: 1) == .seconds(4))
        #expect(r.delay(forRetry: 10, random: 1) == .seconds(20))
        #expect(r.delay(forRetry: 3, random: 0.5) == .seconds(2))
        #expect(r.delay(forRetry: 3, random: 0) == .zero)
    }

    @Test func retryQuotaRunsDryAndRefills() {
        let q = RetryQuota(capacity: 12)
        #expect(q.acquire(timeout: false) == 5)
        #expect(q.acquire(timeout: false) == 5)
        #expect(q.acquire(timeout: false) == nil)
        q.release(5)
        #expect(q.acquire(timeout: true) == nil)
        #expect(q.acquire(timeout: false) == 5)
    }
}
