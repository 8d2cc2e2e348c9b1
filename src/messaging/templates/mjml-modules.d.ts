// Minimal typings for the parts of MJML 5 this module uses (the packages ship none). mjml2html is async in v5.
declare module 'mjml' {
  export interface MjmlError {
    line: number;
    message: string;
    tagName: string;
    formattedMessage: string;
  }
  export interface MjmlOptions {
    validationLevel?: 'strict' | 'soft' | 'skip';
    keepComments?: boolean;
    beautify?: boolean;
    minify?: boolean;
    fonts?: Record<string, string>;
    filePath?: string;
    ignoreIncludes?: boolean;
  }
  export default function mjml2html(input: string, options?: MjmlOptions): Promise<{ html: string; errors: MjmlError[] }>;
}
