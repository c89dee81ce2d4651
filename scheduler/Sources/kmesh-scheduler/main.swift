import SchedulerCLI

await KMeshScheduler.runMain()
