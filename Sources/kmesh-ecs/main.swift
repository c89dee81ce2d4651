import DNSCLI
import KMeshSupport
import ReconcilerShell
import RotateCLI
import SchedulerCLI
import TokensCLI

#if canImport(Glibc)
    import Glibc
#endif

// One binary for every executable: run as (or linked as) reconcile-tokens, reconcile-dns,
// rotate-user-token or kmesh-scheduler it is that command; as kmesh-ecs the first argument names one.
let tools = ["reconcile-tokens", "reconcile-dns", "rotate-user-token", "kmesh-scheduler"]
var arguments = Array(CommandLine.arguments.dropFirst())
var name = String(CommandLine.arguments.first?.split(separator: "/").last ?? "kmesh-ecs")
if !tools.contains(name), let first = arguments.first, tools.contains(first) {
    name = first
    arguments.removeFirst()
}
switch name {
case "reconcile-tokens": await ShellMain.main(ReconcileTokensCommand.self, arguments: arguments)
case "reconcile-dns": await ShellMain.main(ReconcileDNSCommand.self, arguments: arguments)
case "rotate-user-token": await ShellMain.main(RotateUserTokenCommand.self, arguments: arguments)
case "kmesh-scheduler": await KMeshScheduler.runMain(arguments: arguments)
default:
    let usage = """
        kmesh-ecs: every kmesh-ecs executable in one binary.
        USAGE: kmesh-ecs \(tools.joined(separator: "|")) [options]
               (or run it through a link named after one of them; `kmesh-ecs TOOL --help` for its options)
        """
    if arguments.first == "--help" || arguments.first == "-h" {
        LogSink(fileDescriptor: 1).write(line: usage)
        exit(0)
    }
    LogSink.standardError.write(line: usage)
    exit(64)
}
