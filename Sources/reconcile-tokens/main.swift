import TokensCLI

await ReconcileTokensMain.main()
