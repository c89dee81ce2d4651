import FoundationEssentials

/// What one pass of any reconciler reports. The command-line runner prints it and turns it into
/// the exit code; the Lambda handler returns it as the response, or as `Function.ReconcileFailed`.
public protocol PassReport: Sendable {
    /// Something failed, or a guard refused to act: exit 1, and a failed Lambda invocation (so that
    /// EventBridge retries it and the dead-letter queue sees it).
    var failed: Bool { get }
    /// The whole report as one JSON document: `--output json`, and the Lambda response body.
    func json() -> String
    /// For people: one line per item, then `summary`, each line ending in a newline.
    func text() -> String
    /// One line: the totals and how long the pass took.
    var summary: String { get }
    /// What failed, one line each, most important first (the first few become the Lambda error
    /// message).
    var failures: [String] { get }
}

/// The contract every reconciler keeps (after controller-runtime's `Reconciler`):
///
/// - **Level-based.** A pass always starts from the whole current state it reads (AWS and the
///   control plane), never from what an event said changed. An event only narrows the scope; the
///   answer is the same as a full pass over that scope. Running a pass twice in a row is safe, and
///   the second one changes nothing.
/// - **A pass never throws.** Every failure lands in the report, one line each; the other items are
///   still done. `PassReport.failed` says whether to exit 1.
/// - **The plan is a value.** What to change is computed by a pure function in ReconcileCore from
///   (current state, desired state, options); `run` reads, plans, logs each change, then applies.
/// - **Dry-run stops at the apply boundary.** With dry-run on, everything is read and planned, and
///   the report says what would change; nothing is written.
/// - **A deadline stops new writes.** No write starts at or after `deadline` (read from the
///   injected clock); what was not reached is reported as skipped, for the next pass.
public protocol Reconciler: Sendable {
    /// What a pass covers: everything, or a part an event names.
    associatedtype Scope: Sendable
    associatedtype Report: PassReport
    /// One pass over `scope`. See the protocol's contract.
    func run(_ scope: Scope, deadline: Date?) async -> Report
}
