package backstop.local.bench;

import backstop.core.agent.AgentRef;
import backstop.core.config.BackstopConfig;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionToken;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.Quota;
import backstop.reconciler.Reconciler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not part of the test run: one reconciler sweep ({@code sweepOnce}: the stale sweep over the sparse sharded
 * index, then the due transitions it created, each agent set Offline) for S stale sessions among L live ones,
 * on a fresh table per point, on a moved clock. The measured sweep is a warm container's, the one that finds the
 * stale sessions (opened a second after its first sweep, never beating): the reconciler swept every 15 s before
 * it, as it does in production. Printed too: the container's first sweep (it lists and reads every live session)
 * and the full listing each minute brings (it lists every live session's index entry, a few bytes each). Live sessions are seeded in bulk; stale ones are registered normally. Connect's
 * quota is off and the reconciler's rate high, so the figure is the sweep's own work, not quota pacing (the
 * storm benchmark measures that). Besides wall time it counts the DynamoDB requests of the sweep and the items
 * its queries read (ScannedCount): what DynamoDB bills and what bounds its latency. Writes a PNG plot.
 * <pre>local/bin/bench scaling   (or: local/bin/test -pl local -Dtest=ScalingBenchmark -Dbench=true -Dlive=100,10000,100000)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ScalingBenchmark {
    record Point(int live, int stale, double seconds, long requests, long itemsRead, double firstSeconds, long firstRequests,
                 double fullSeconds, long fullRequests, long fullItems) {
    }

    @Test
    void measure() throws Exception {
        List<Integer> lives = parse(System.getProperty("live", "100,10000,100000"));
        List<Integer> stales = parse(System.getProperty("stale", "10,100,1000"));
        List<Point> byLive = new ArrayList<>();
        for (int live : lives) {
            byLive.add(point(live, 100));
        }
        List<Point> byStale = new ArrayList<>();
        for (int stale : stales) {
            byStale.add(point(100, stale));
        }
        Point idle = point(100, 0);
        System.out.printf("scaling idle sweep (100 live, 0 stale): %.2f s, %d DynamoDB requests, %d items read by queries%n",
                idle.seconds(), idle.requests(), idle.itemsRead());
        for (Point p : byLive) {
            print(p);
        }
        for (Point p : byStale) {
            print(p);
        }
        Path png = Path.of("target", "bench", "sweep-scaling.png");
        Files.createDirectories(png.getParent());
        plot(byLive, byStale, png);
        System.out.printf("scaling: largest/smallest live = %.2f x (target <= 1.5 x); plot %s%n",
                byLive.getLast().seconds() / byLive.getFirst().seconds(), png.toAbsolutePath());
    }

    static void print(Point p) {
        System.out.printf("scaling live %7d stale %5d: sweep %7.2f s, %6d DynamoDB requests, %7d items read by queries"
                        + " (the minute's full listing: %.2f s, %d requests, %d items; a container's first sweep: %.2f s, %d requests)%n",
                p.live(), p.stale(), p.seconds(), p.requests(), p.itemsRead(), p.fullSeconds(), p.fullRequests(), p.fullItems(),
                p.firstSeconds(), p.firstRequests());
    }

    static Point point(int live, int stale) throws Exception {
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests())) {
            stack.connect().setQuota(Quota.OFF);
            SecureRandom random = new SecureRandom();
            DynamoSessionStore store = new DynamoSessionStore(stack.clients().dynamoDb(), stack.config().sessionsTable());
            Instant t0 = Instant.now();
            AgentRef liveAgent = AgentRef.parseArn(DemoInstance.instanceArn(stack.instanceId()) + "/agent/live").orElseThrow();
            List<NewSession> seeded = new ArrayList<>();
            for (int i = 0; i < live; i++) {
                seeded.add(new NewSession(SessionId.random(random), liveAgent, SessionToken.random(random).hash(), t0.minus(Duration.ofMinutes(10)),
                        Optional.empty(), Optional.empty(), Exemption.NOT_EXEMPT, Optional.empty(), Integer.MAX_VALUE));
            }
            // Opened ten minutes ago and last seen an hour ahead: live for the whole point however long it takes
            // (nothing beats here), so only the registered stale sessions are ever stale.
            backstop.core.session.SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), seeded,
                    Optional.of(t0.plus(Duration.ofHours(1))));
            try (CountingClients counted = new CountingClients(stack)) {
                Map<String, String> env = new HashMap<>(stack.environment());
                env.put("CONNECT_RATE_PER_SECOND", "100");
                BackstopConfig config = BackstopConfig.fromEnvironment(env);
                backstop.local.it.MutableClock clock = new backstop.local.it.MutableClock(t0);
                Reconciler reconciler = ReconcilerWiring.reconciler(config,
                        new DynamoSessionStore(counted.clients().dynamoDb(), config.sessionsTable()),
                        new backstop.core.session.DynamoTransitionStore(counted.clients().dynamoDb(), config.sessionsTable()), counted.clients(),
                        clock, wake -> { }, ReconcilerMetrics.NONE);
                long firstStarted = System.nanoTime();
                reconciler.sweepOnce(); // the container's first sweep (a full listing): reads every live session once
                double firstSeconds = (System.nanoTime() - firstStarted) / 1e9;
                long firstRequests = counted.total();

                // The stale sessions open a second later and never beat; the sweeps go on every 15 s on the moved
                // clock (a full listing at 60 s) until the one at 90 s, the first after they passed the stale limit.
                for (int i = 0; i < stale; i++) {
                    String user = "stale-" + i;
                    stack.connect().addAgent(stack.instanceId(), user, user, "Stale", "Agent", "rp-support", "Available");
                    store.createSession(new NewSession(SessionId.random(random),
                            AgentRef.parseArn(DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user).orElseThrow(),
                            SessionToken.random(random).hash(), t0.plusSeconds(1), Optional.empty(),
                            Optional.of(new NewSession.CheckedUser(user, Optional.of("rp-support"))), Exemption.NOT_EXEMPT,
                            Optional.empty(), Integer.MAX_VALUE));
                }
                double fullSeconds = 0;
                long fullRequests = 0;
                long fullItems = 0;
                for (int s = 15; s <= 75; s += 15) {
                    clock.set(t0.plusSeconds(s));
                    counted.reset();
                    long started = System.nanoTime();
                    assertThat(reconciler.sweepOnce().staleClosed()).as("nothing stale before 76 s").isZero();
                    if (s == 60) {
                        fullSeconds = (System.nanoTime() - started) / 1e9;
                        fullRequests = counted.total();
                        fullItems = counted.itemsRead();
                    }
                }
                clock.set(t0.plusSeconds(90));
                counted.reset();
                long started = System.nanoTime();
                Reconciler.Summary summary = reconciler.sweepOnce();
                double seconds = (System.nanoTime() - started) / 1e9;
                assertThat(summary.staleClosed()).as("every stale session closed, no live one").isEqualTo(stale);
                return new Point(live, stale, seconds, counted.total(), counted.itemsRead(), firstSeconds, firstRequests,
                        fullSeconds, fullRequests, fullItems);
            }
        }
    }

    static List<Integer> parse(String csv) {
        return java.util.Arrays.stream(csv.split(",")).map(String::trim).map(Integer::parseInt).toList();
    }

    /** Two panels: sweep time against live sessions (100 stale), and against stale sessions (100 live). */
    static void plot(List<Point> byLive, List<Point> byStale, Path png) throws Exception {
        int width = 1060;
        int height = 420;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        panel(g, 40, "Sweep time vs live sessions (100 stale)", "live sessions (log)", byLive, Point::live);
        panel(g, 550, "Sweep time vs stale sessions (100 live)", "stale sessions (log)", byStale, Point::stale);
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }

    static void panel(Graphics2D g, int left, String title, String xLabel, List<Point> points,
                      java.util.function.ToIntFunction<Point> x) {
        int top = 60;
        int w = 400;
        int h = 280;
        g.setStroke(new BasicStroke(1f));
        double maxY = points.stream().mapToDouble(Point::seconds).max().orElse(1) * 1.15;
        double minX = Math.log10(points.stream().mapToInt(x).min().orElse(1));
        double maxX = Math.log10(points.stream().mapToInt(x).max().orElse(10));
        double spanX = Math.max(maxX - minX, 1);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawLine(left + 50, top, left + 50, top + h);
        g.drawLine(left + 50, top + h, left + 50 + w, top + h);
        g.drawString(xLabel, left + 50 + w / 2 - 50, top + h + 40);
        g.drawString("seconds", left, top - 10);
        for (int i = 0; i <= 4; i++) {
            double value = maxY * i / 4;
            int y = top + h - (int) (h * i / 4.0);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(left + 51, y, left + 50 + w, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.1f", value), left + 10, y + 4);
        }
        int[] xs = new int[points.size()];
        int[] ys = new int[points.size()];
        for (int i = 0; i < points.size(); i++) {
            Point p = points.get(i);
            xs[i] = left + 70 + (int) ((w - 40) * (Math.log10(x.applyAsInt(p)) - minX) / spanX);
            ys[i] = top + h - (int) (h * p.seconds() / maxY);
            g.drawString(String.format("%,d", x.applyAsInt(p)), xs[i] - 15, top + h + 18);
        }
        g.setColor(new Color(37, 99, 235));
        g.setStroke(new BasicStroke(2.5f));
        g.drawPolyline(xs, ys, xs.length);
        for (int i = 0; i < xs.length; i++) {
            g.fillOval(xs[i] - 5, ys[i] - 5, 10, 10);
            String label = String.format("%.2f s", points.get(i).seconds());
            g.drawString(label, i == xs.length - 1 ? xs[i] - 55 : xs[i] + 8, ys[i] - 10);
        }
    }
}
