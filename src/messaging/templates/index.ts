// Public API of the templates module: brand kit, template validation and rendering for every channel.
export { type BrandKit, DEFAULT_BRAND_KIT, validateBrandKit } from './brand-kit.ts';
export { type FieldError, type RenderContext, RenderError, type TemplateChannel, type TemplateSource } from './types.ts';
export { validateTemplate, type ValidateResult } from './validate.ts';
export { type RenderOptions, renderTemplate, PUSH_BODY_MAX, PUSH_TITLE_MAX } from './render.ts';
export { MAX_SUBJECT } from './render-email.ts';
export { smsSegments, withOptOutFooter, type SmsCount } from './sms.ts';
export { BUILTIN_BLOCKS } from './blocks.ts';
export { LIMITS } from './engine.ts';
export { configureRenderCache } from './cache.ts';
