export async function runImportCli(_args: string[]): Promise<number> {
  console.error('not yet');
  return 2;
}
