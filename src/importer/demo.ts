export async function runDemoCli(_args: string[]): Promise<number> {
  console.error('not yet');
  return 2;
}
