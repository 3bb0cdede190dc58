package backstop.local.aws;

/** A JVM that starts moto and waits: the test kills it and checks moto goes with it. */
public final class AwsEmulationChild {
    private AwsEmulationChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        AwsEmulation emulation = AwsEmulation.start(0);
        System.out.println("endpoint=" + emulation.endpoint());
        System.out.flush();
        Thread.sleep(120_000);
    }
}
