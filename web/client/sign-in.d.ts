// @ccp-backstop/client/sign-in: OpenID Connect sign-in (Authorization Code + PKCE) for the CCP page.

export interface SignInOptions {
  /** The identity provider's issuer URL, exactly as its tokens' `iss`. */
  issuer: string;
  /** The CCP page's OAuth client id (a public client: no secret). */
  clientId: string;
  scope?: string;
  loginHint?: string;
  storage?: Storage;
  location?: Location;
  history?: History;
  now?: () => number;
}

export interface SignIn {
  /** Finishes a sign-in when the provider just redirected back; true when it did. */
  completeCallback(): Promise<boolean>;
  /** Leaves for the provider's sign-in page; the browser comes back to this page. */
  signIn(): Promise<void>;
  /**
   * The valid ID token (refreshed when possible), or null when the agent must sign in again; with
   * `{ refresh: true }` only a token issued anew through the refresh token (the API refused the kept one).
   */
  getToken(options?: { refresh?: boolean }): Promise<string | null>;
}

export declare function createSignIn(options: SignInOptions): SignIn;
