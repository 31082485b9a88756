import DabbaCLI
await DabbaCommand.main()
