// Types of build.mjs (for test/dashboard.test.ts, which builds the dashboard when it is missing or stale).
export declare const DASHBOARD_DIR: string;
export declare const DIST_DIR: string;
export interface AssetSize {
  file: string;
  bytes: number;
  gzip: number;
}
export declare function dashboardStale(): string | null;
export declare function dashboardSizes(dir?: string): AssetSize[];
export declare function buildDashboard(opts?: { quiet?: boolean }): Promise<AssetSize[]>;
