import ReconcilerShell
import RotateCLI

await ShellMain.main(RotateUserTokenCommand.self)
