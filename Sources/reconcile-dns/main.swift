import DNSCLI
import ReconcilerShell

await ShellMain.main(ReconcileDNSCommand.self)
