/** One benchmark scenario: run() measures, then adds its summary rows and detail section. */
export interface BenchScenario {
  /** the id `--only` selects it by, and its summary rows carry (S1, S2, …) */
  id: string;
  /** further summary-row ids this scenario produces (S3 also writes S4) */
  also?: string[];
  /** ids of later scenarios that use a value this one measures: run it when they are wanted */
  feeds?: string[];
  run: () => Promise<void>;
}
