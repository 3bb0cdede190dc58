package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Request;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import backstop.core.config.BackstopConfig;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.microsoft.playwright.Locator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The page signs the agent in with the identity provider before it protects them (Authorization Code + PKCE in
 * real Chromium, against the real local OIDC server), and a page that cannot sign in registers nothing.
 */
class SignInBrowserTest {
    static final int HEARTBEAT = 5;
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        // A short heartbeat: a session the server closed is noticed by the page within seconds.
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("HEARTBEAT_SECONDS", "" + HEARTBEAT)));
        stack.connect().setQuota(Quota.OFF);
        chromium = new Chromium();
        browser = chromium.launch();
    }

    @AfterAll
    static void stop() {
        browser.close();
        chromium.close();
        stack.close();
    }

    @Test
    void demoAgent_should_signInThroughTheIdentityProvider_goAvailable_andBeSetOfflineWhenTheTabCloses() {
        String issuer = stack.identity().issuer().toString();
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        List<Request> requests = new CopyOnWriteArrayList<>();
        page.onRequest(requests::add);

        CcpPage.openAvailable(stack, page, "demo-katherine");

        assertThat(page.url()).as("back on the page, the agent kept, the code gone").endsWith("/ccp.html?agent=demo-katherine");
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-sign-in", "done");
        assertThat(requests).as("the IdP's authorization endpoint, with PKCE and the agent as login hint")
                .anySatisfy(r -> assertThat(r.url()).startsWith(issuer + "/authorize?")
                        .contains("code_challenge_method=S256").contains("login_hint=demo-katherine"));
        assertThat(requests).as("the code exchanged at the token endpoint")
                .anySatisfy(r -> assertThat(r.url()).isEqualTo(issuer + "/token"));
        Request register = requests.stream().filter(r -> r.url().endsWith("/sessions") && r.method().equals("POST")).findFirst().orElseThrow();
        assertThat(register.headers().get("authorization")).as("the register carries the IdP's token").startsWith("Bearer ey");
        assertThat(requests).filteredOn(r -> r.url().contains("/heartbeat") || r.url().contains("/close"))
                .allSatisfy(r -> assertThat(r.headers()).doesNotContainKey("authorization"));

        page.close();

        CcpPage.awaitBackstopOffline(stack, "demo-katherine");
        assertThat(stack.connect().agentView(stack.instanceId(), "demo-katherine").statusName()).isEqualTo("Offline");
        context.close();
    }

    static long accessed(String prefix) {
        return stack.accessLog().stream().filter(line -> line.startsWith(prefix)).count();
    }

    @Test
    void expiredSignIn_should_registerNothing_offerSignInAgain_andProtectTheAgentAfterIt() {
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        CcpPage.openAvailable(stack, page, "demo-alan");
        // The sign-in runs out (an expired ID token, no refresh token): the tab holds no usable token any more...
        page.evaluate("() => sessionStorage.removeItem('ccp-backstop.sign-in')");
        long registersBefore = accessed("POST /sessions ");
        long openedBefore = accessed("POST /sessions 201"); // another test's page may have had a register refused
        // ...and the server closes the session (the laptop slept past the stale limit), so the page must register again.
        BackstopConfig config = stack.config();
        Clock later = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(config.staleAfterSeconds() + 1));
        ReconcilerWiring.reconciler(config, stack.reconcilerClients(), later, wake -> { }, ReconcilerMetrics.NONE).sweepOnce();

        Locator signInAgain = page.locator("#banner button");
        PlaywrightAssertions.assertThat(signInAgain).hasText("Sign in again",
                new LocatorAssertions.HasTextOptions().setTimeout(HEARTBEAT * 1000 + Waits.PROMPT.toMillis()));
        PlaywrightAssertions.assertThat(page.locator("#banner")).containsText("not protected");
        assertThat(accessed("POST /sessions ")).as("no register without a sign-in, not even a refused one").isEqualTo(registersBefore);

        signInAgain.click();

        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "open");
        assertThat(page.url()).endsWith("/ccp.html?agent=demo-alan");
        assertThat(accessed("POST /sessions 201")).isEqualTo(openedBefore + 1);
        context.close();
    }

    @Test
    void refusedToken_should_beReplacedThroughTheRefreshToken_withoutAskingTheAgent_andKeepThemProtected() {
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        CcpPage.openAvailable(stack, page, "demo-ada");
        assertThat(page.evaluate("() => !!JSON.parse(sessionStorage.getItem('ccp-backstop.sign-in')).refreshToken"))
                .as("the local identity provider gave a refresh token").isEqualTo(true);
        // The kept ID token stops verifying while still unexpired (a rotated key, a revoked one): its signature altered.
        String refused = (String) page.evaluate("""
                () => { const saved = JSON.parse(sessionStorage.getItem('ccp-backstop.sign-in'));
                  const [header, payload, signature] = saved.idToken.split('.');
                  saved.idToken = header + '.' + payload + '.' + (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
                  sessionStorage.setItem('ccp-backstop.sign-in', JSON.stringify(saved)); return saved.idToken; }""");
        long refusedBefore = accessed("POST /sessions 401");
        long openedBefore = accessed("POST /sessions 201");
        // The server closes the session (the laptop slept past the stale limit): the page must register again.
        BackstopConfig config = stack.config();
        Clock later = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(config.staleAfterSeconds() + 1));
        ReconcilerWiring.reconciler(config, stack.reconcilerClients(), later, wake -> { }, ReconcilerMetrics.NONE).sweepOnce();

        await().atMost(Duration.ofSeconds(HEARTBEAT).plus(Waits.PROMPT)).until(() -> accessed("POST /sessions 201") == openedBefore + 1);

        assertThat(accessed("POST /sessions 401")).as("the altered token refused once").isEqualTo(refusedBefore + 1);
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "open");
        PlaywrightAssertions.assertThat(page.locator("#backstop-state")).containsText("Protected");
        PlaywrightAssertions.assertThat(page.locator("#banner button")).hasCount(0); // no Sign in again offered
        assertThat(page.evaluate("() => JSON.parse(sessionStorage.getItem('ccp-backstop.sign-in')).idToken"))
                .as("a token issued anew is kept").isNotEqualTo(refused);
        context.close();
    }

    @Test
    void page_should_sayItIsNotProtected_andRegisterNothing_when_theIdentityProviderIsUnreachable() {
        String issuer = stack.identity().issuer().toString();
        BrowserContext context = browser.newContext();
        // The IdP down (or blocked by the network): every request to it fails as a refused connection would.
        context.route(issuer + "/**", route -> route.abort("connectionrefused"));
        Page page = context.newPage();
        // Registers only ("POST /sessions <status>"): the previous test's close beacon may still land meanwhile.
        long before = stack.accessLog().stream().filter(line -> line.startsWith("POST /sessions ")).count();

        page.navigate(stack.frontUrl() + "/ccp.html?agent=demo-linus");

        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-sign-in", "failed");
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "error");
        PlaywrightAssertions.assertThat(page.locator("#banner")).isVisible();
        PlaywrightAssertions.assertThat(page.locator("#banner")).containsText("Sign-in failed: the identity provider at " + issuer
                + " cannot be reached");
        PlaywrightAssertions.assertThat(page.locator("#backstop-state")).hasText("Not signed in: not protected.",
                new LocatorAssertions.HasTextOptions().setTimeout(Waits.PROMPT.toMillis()));
        assertThat(stack.accessLog().stream().filter(line -> line.startsWith("POST /sessions ")).count())
                .as("no register was even attempted").isEqualTo(before);
        context.close();
    }
}
