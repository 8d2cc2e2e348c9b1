// Signed links, open/click tracking, bot filtering and the hosted consent pages: pure functions and HTML, no I/O.
// The HTTP routes and storage that use them live elsewhere.
//
//   tokens.ts       signToken / verifyToken / peekToken / deriveLinkKey (format documented there)
//   urls.ts         the public URLs (/t/o/, /t/c/, /u/, /p/, /c/), parsing them back, List-Unsubscribe headers
//   rewrite.ts      instrumentEmailHtml (click links + open pixel), instrumentText (plain-text parts, SMS)
//   html.ts         the small HTML start-tag scanner and entity decoding the rewriter uses
//   bots.ts         classifyOpen / classifyClick: privacy proxies, scanners, bursts (thresholds documented there)
//   pages.ts        escapeHtml, the page layout, unsubscribe / opt-in / error pages, PAGE_HEADERS
//   preferences.ts  preference centre page and parsePreferenceForm
export {
  deriveLinkKey,
  MAC_BYTES,
  MAX_TOKEN_LENGTH,
  peekToken,
  signToken,
  TOKEN_PURPOSES,
  type TokenPayload,
  type TokenPurpose,
  type VerifyResult,
  verifyToken,
} from './tokens.ts';
export {
  clickUrl,
  confirmUrl,
  LINK_ROUTES,
  type LinkKind,
  listUnsubscribeHeaders,
  openPixelUrl,
  parseLinkPath,
  parseLinkUrl,
  preferencesUrl,
  unsubscribeMailAddress,
  unsubscribeUrl,
} from './urls.ts';
export {
  type ClickUrlFn,
  instrumentEmailHtml,
  instrumentText,
  type InstrumentOptions,
  pixelTag,
  type TextOptions,
  trackableUrl,
} from './rewrite.ts';
export { decodeEntities } from './html.ts';
export {
  BURST_MIN_CLICKS,
  BURST_WINDOW_MS,
  type BotReason,
  burstMask,
  CLICK_MIN_DELAY_MS,
  type Classification,
  classifyClick,
  classifyOpen,
  inBurst,
  isAppleIp,
  OPEN_MIN_DELAY_MS,
} from './bots.ts';
export {
  type Brand,
  DEFAULT_COLOR,
  errorPage,
  escapeHtml,
  normalizeBrand,
  optInConfirmPage,
  optInPromptPage,
  PAGE_HEADERS,
  parseUnsubscribePost,
  safeHref,
  unsubscribeConfirmPage,
  unsubscribeDonePage,
} from './pages.ts';
export {
  maskPhone,
  parsePreferenceForm,
  type PreferenceChange,
  type PreferenceChannel,
  type PreferenceFormResult,
  type PreferenceState,
  type PreferenceTopic,
  preferenceCentrePage,
} from './preferences.ts';
