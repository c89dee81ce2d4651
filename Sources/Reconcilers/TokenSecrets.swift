import AWS
import FoundationEssentials
import Hashing
import KMeshSupport
import Kuma
import Logging
import ReconcileCore

/// A secret as read: its state for the decision, plus what writing it back needs.
struct StoredSecretValue: Sendable {
    var state: StoredSecret
    /// The JSON object's keys, kept when `token` is replaced.
    var object: [String: JSONValue]
    var arn: String
    var versionId: String?
}

enum SecretFetch: Sendable {
    case value(StoredSecretValue)
    case failure(String)
}

extension TokenReconciler {
    // MARK: reading secrets

    /// Reads every secret: BatchGetSecretValue 20 at a time, or GetSecretValue one by one when the
    /// role may not batch (said once) or for a single-task pass.
    func readSecrets(_ names: [String], single: Bool) async -> [String: SecretFetch] {
        guard !names.isEmpty else { return [:] }
        if single || names.count == 1 { return await readOneByOne(names) }
        let chunks = names.chunked(into: secrets.batchGetSecretValueLimit)
        let batchDenied = Locked(false)
        let results = await withBoundedConcurrency(chunks, limit: options.concurrency) { chunk -> [String: SecretFetch] in
            if batchDenied.withLock({ $0 }) { return await self.readOneByOne(chunk) }
            do {
                let batch = try await secrets.batchGetSecretValue(ids: chunk)
                var out: [String: SecretFetch] = [:]
                for v in batch.values { out[v.name] = .value(Self.parse(v)) }
                var notFound: [String] = []
                for e in batch.errors {
                    if e.errorCode == "ResourceNotFoundException" {
                        notFound.append(e.secretId)
                    } else {
                        out[e.secretId] = .failure(Self.explain(code: e.errorCode, message: e.message, secret: e.secretId))
                    }
                }
                for (name, read) in await self.classifyNotFound(notFound) { out[name] = read }
                // Any name the answer did not mention (ids given by name come back by name).
                for name in chunk where out[name] == nil { out[name] = .failure("BatchGetSecretValue returned nothing for this secret") }
                return out
            } catch let e as AWSServiceError where e.isAccessDenied {
                let first = batchDenied.withLock { denied -> Bool in
                    defer { denied = true }
                    return !denied
                }
                if first {
                    logger.warning(
                        "the role may not call secretsmanager:BatchGetSecretValue; reading secrets one by one with GetSecretValue (allow BatchGetSecretValue to save calls)"
                    )
                }
                return await self.readOneByOne(chunk)
            } catch {
                return Dictionary(uniqueKeysWithValues: chunk.map { ($0, SecretFetch.failure("cannot read the secret: \(error)")) })
            }
        }
        return results.reduce(into: [:]) { $0.merge($1) { a, _ in a } }
    }

    func readOneByOne(_ names: [String]) async -> [String: SecretFetch] {
        let pairs = await withBoundedConcurrency(names, limit: options.concurrency) { name -> (String, SecretFetch) in
            do {
                return (name, .value(Self.parse(try await secrets.getSecretValue(id: name, versionStage: nil, versionId: nil))))
            } catch let e as AWSServiceError where e.code == "ResourceNotFoundException" {
                return (name, await self.classifyNotFound([name])[name]!)
            } catch let e as AWSServiceError {
                return (name, .failure(Self.explain(code: e.code, message: e.message, secret: name)))
            } catch {
                return (name, .failure("cannot read the secret: \(error)"))
            }
        }
        return Dictionary(pairs, uniquingKeysWith: { a, _ in a })
    }

    /// "Not found" means either no secret or a secret without a current value; DescribeSecret
    /// tells them apart without parsing messages.
    func classifyNotFound(_ names: [String]) async -> [String: SecretFetch] {
        var out: [String: SecretFetch] = [:]
        for name in names {
            do {
                let d = try await secrets.describeSecret(id: name)
                out[name] = .value(StoredSecretValue(state: .noValue, object: [:], arn: d.arn, versionId: d.currentVersionId))
            } catch let e as AWSServiceError where e.code == "ResourceNotFoundException" {
                out[name] = .value(StoredSecretValue(state: .missing, object: [:], arn: "", versionId: nil))
            } catch {
                out[name] = .failure("the secret was not found and DescribeSecret failed: \(error)")
            }
        }
        return out
    }

    static func parse(_ v: SecretValue) -> StoredSecretValue {
        guard let text = v.secretString?.value else {
            return StoredSecretValue(state: .notAJSONObject, object: [:], arn: v.arn, versionId: v.versionId)
        }
        guard let json = try? JSONValue.parse(text), let object = json.objectValue else {
            return StoredSecretValue(state: .notAJSONObject, object: [:], arn: v.arn, versionId: v.versionId)
        }
        var facts: TokenFacts?
        if case .string(let token)? = object["token"] {
            if let claims = try? KumaTokenClaims.decode(Secret(token)) {
                facts = TokenFacts(isJWT: true, mesh: claims.mesh, services: claims.tags[serviceTag] ?? [], expiresAt: claims.expiresAt)
            } else {
                facts = TokenFacts(isJWT: false)
            }
        }
        return StoredSecretValue(
            state: .object(token: facts, hasTokenKey: object["token"] != nil), object: object,
            arn: v.arn, versionId: v.versionId)
    }

    static func explain(code: String, message: String, secret: String) -> String {
        switch code {
        case "AccessDeniedException":
            "the role may not read the secret: allow secretsmanager:GetSecretValue on it (\(message))"
        case "DecryptionFailure":
            "the secret's KMS key cannot be used: allow kms:Decrypt for the role (\(message))"
        default:
            "cannot read the secret: \(code): \(message)"
        }
    }

    // MARK: writing

    /// Whether the control plane answers with this token at all: one clear line instead of one
    /// failure per service when it is down or the token is rejected.
    func preflight() async -> String? {
        do {
            _ = try await kuma.whoAmI()
            return nil
        } catch let e as KumaAPIError where e.status == 401 {
            logger.error("the Kuma API rejected the API token", metadata: ["error": "\(e)"])
            return "\(e)"
        } catch let e as KumaClientError {
            logger.error("the Kuma API is unreachable", metadata: ["error": "\(e)"])
            return "\(e)"
        } catch {
            // Other answers (403 on who-am-i, 5xx) are left to the token requests, per service.
            return nil
        }
    }

    func write(_ key: ServiceKey, _ value: StoredSecretValue, _ reason: String, tasks: Int, waiting: Int) async -> TokenReport.Entry {
        let name = options.secretNamePrefix + key.service
        func entry(_ action: TokenReport.Action, _ why: String) -> TokenReport.Entry {
            self.entry(key, tasks: tasks, waiting: waiting, action, why)
        }
        let token: Secret
        do {
            token = try await kuma.generateDataplaneToken(.forService(key.service, mesh: key.mesh, validFor: options.tokenValidFor))
        } catch {
            logger.error("token not issued", metadata: ["service": "\(key.service)", "mesh": "\(key.mesh)", "error": "\(error)"])
            return entry(.failed, "token not issued: \(error)")
        }
        var object = value.object
        object["token"] = .string(token.value)
        let document: Secret
        do {
            document = Secret(String(decoding: try JSON.encode(JSONValue.object(object)), as: UTF8.self))
        } catch {
            return entry(.failed, "cannot encode the secret's JSON: \(error)")
        }
        let requestToken = Self.clientRequestToken(secret: value.arn.isEmpty ? name : value.arn, replacing: value.versionId)
        do {
            _ = try await secrets.putSecretValue(id: name, clientRequestToken: requestToken, secretString: document, versionStages: nil)
            logger.info(
                "token written", metadata: ["service": "\(key.service)", "mesh": "\(key.mesh)", "secret": "\(name)", "reason": "\(reason)"])
            return entry(.written, reason)
        } catch let e as AWSServiceError where e.code == "ResourceExistsException" {
            // Another pass, working from the same version, wrote first: the secret is handled.
            logger.info("token already written by a concurrent pass", metadata: ["service": "\(key.service)", "secret": "\(name)"])
            return entry(.unchanged, "written by a concurrent pass (\(reason))")
        } catch {
            logger.error("secret not written", metadata: ["service": "\(key.service)", "secret": "\(name)", "error": "\(error)"])
            return entry(.failed, "secret not written: \(error)")
        }
    }

    /// The same for every pass that replaces the same version of the same secret, so two passes
    /// racing produce one new version: the loser's PutSecretValue fails with ResourceExists.
    /// 38 characters, within Secrets Manager's 32 to 64.
    static func clientRequestToken(secret: String, replacing versionId: String?) -> String {
        let digest = Digest.hex(Digest.sha256(Array("\(secret)|\(versionId ?? "-")".utf8)))
        return "kmesh-" + digest.prefix(32)
    }
}
