import FoundationEssentials
import KMeshSupport
import LambdaRuntime
import ReconcilerShell
import Reconcilers

/// reconcile-tokens as a Lambda function fed by EventBridge: "ECS Task State Change" is a pass for
/// that task's service only (skipped when the task is stopping); the shell handles the rest.
extension TokenReconciler: EventDrivenReconciler {
    public var fullScope: Scope { .all }

    public static var servedEvents: String? { #""ECS Task State Change" from aws.ecs"# }

    public func route(_ event: [String: JSONValue]) -> EventRoute<Scope>? {
        guard event["detail-type"]?.stringValue == "ECS Task State Change", event["source"]?.stringValue == "aws.ecs" else { return nil }
        guard let detail = event["detail"]?.objectValue, let taskArn = detail["taskArn"]?.stringValue, !taskArn.isEmpty,
            let clusterArn = detail["clusterArn"]?.stringValue, !clusterArn.isEmpty
        else {
            return .reject(
                FunctionError(
                    type: "Function.MalformedEvent", message: "ECS Task State Change without detail.taskArn and detail.clusterArn"))
        }
        let last = detail["lastStatus"]?.stringValue
        let desired = detail["desiredStatus"]?.stringValue
        if last == "STOPPED" || last == "DEPROVISIONING" || desired == "STOPPED" {
            return .skip("task \(taskArn) is stopping (lastStatus \(last ?? "-"), desiredStatus \(desired ?? "-"))")
        }
        // Events repeat and arrive out of order: (taskArn, detail.version) identifies one.
        var dedupe: (String, String)?
        if case .number(let v)? = detail["version"] {
            dedupe = ("\(taskArn)#\(Int64(v))", "\(taskArn), version \(Int64(v))")
        }
        return .pass(.task(cluster: clusterArn, taskArn: taskArn), dedupe: dedupe)
    }
}
