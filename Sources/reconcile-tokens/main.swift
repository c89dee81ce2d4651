import ReconcilerShell
import TokensCLI

await ShellMain.main(ReconcileTokensCommand.self)
