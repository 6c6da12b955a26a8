import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { tick } from "svelte";
import StartScreen from "./StartScreen.svelte";
import { api } from "../lib/api";
import { ui } from "../lib/app.svelte";
import { lab } from "../lib/fixtures";
import { awsSetup, commandError, info, otherLab, preflightView } from "./fixtures";
import type { EndpointCheck } from "../bindings/EndpointCheck";
import type { StartOptions } from "../bindings/StartOptions";

// Every command is a mock; errorText stays the real one.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, api: Object.fromEntries(Object.keys(real.api).map((k) => [k, vi.fn()])) };
});

type OnStart = (options: StartOptions) => Promise<void>;

let onstart: ReturnType<typeof vi.fn<OnStart>>;

beforeEach(() => {
  ui.labs = [lab, otherLab];
  ui.info = info;
  ui.error = null;
  onstart = vi.fn<OnStart>(async () => {});
  vi.mocked(api.awsSetup).mockResolvedValue(awsSetup);
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

function setup() {
  const user = userEvent.setup();
  render(StartScreen, { props: { onstart } });
  return user;
}

const startButton = () => screen.getByRole("button", { name: /Start the lab|Starting/ });
const radio = (name: RegExp) => screen.getByRole("radio", { name }) as HTMLInputElement;

/** What a learner who changes nothing starts. */
const defaults: StartOptions = {
  lab: lab.id,
  aws: null,
  target: "builtin",
  endpoint: null,
  access_key: null,
  learner: "ann",
  mode: "guided",
  consistency: "crash",
  pace: null,
  step_by_step: true,
  resume: null,
  record_commands: true,
};

describe("StartScreen: labs", () => {
  it("shows each lab as a card and selects the first", () => {
    setup();
    const first = screen.getByTestId(`lab-${lab.id}`);
    const second = screen.getByTestId(`lab-${otherLab.id}`);
    expect(first.getAttribute("aria-pressed")).toBe("true");
    expect(second.getAttribute("aria-pressed")).toBe("false");
    expect(first.textContent).toContain("SecureCart");
    expect(first.textContent).toContain("2 steps · about 20 minutes");
    expect(second.textContent).toContain("1 steps · about 10 minutes");
    expect(screen.queryByTestId(`runs-on-${lab.id}`)).toBeNull();
  });

  it("says where a lab runs when it does not run everywhere", () => {
    ui.labs = [lab, { ...otherLab, targets: ["embedded", "aws"] }];
    setup();
    expect(screen.getByTestId(`runs-on-${otherLab.id}`).textContent).toBe("Runs on the built-in emulator, AWS only");
  });

  it("starts the lab the learner picked", async () => {
    const user = setup();
    await user.click(screen.getByTestId(`lab-${otherLab.id}`));
    expect(screen.getByTestId(`lab-${otherLab.id}`).getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByTestId(`lab-${lab.id}`).getAttribute("aria-pressed")).toBe("false");
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith({ ...defaults, lab: otherLab.id });
  });

  it("cannot start before the labs are known", async () => {
    ui.labs = [];
    const user = setup();
    expect(startButton()).toHaveProperty("disabled", true);
    await user.click(startButton());
    expect(onstart).not.toHaveBeenCalled();
  });

  it("selects the first lab once the labs arrive", async () => {
    ui.labs = [];
    setup();
    ui.labs = [lab, otherLab];
    await tick();
    expect(screen.getByTestId(`lab-${lab.id}`).getAttribute("aria-pressed")).toBe("true");
    expect(startButton()).toHaveProperty("disabled", false);
  });
});

describe("StartScreen: target", () => {
  it("defaults to the built-in emulator, with its pace and no endpoint field", () => {
    setup();
    expect(radio(/Built-in emulator/).checked).toBe(true);
    expect(screen.queryByLabelText("Endpoint URL")).toBeNull();
    expect(screen.queryByTestId("check-endpoint")).toBeNull();
    expect(screen.getByLabelText("Pace")).toBeTruthy();
  });

  it("asks for an endpoint URL, and hides the emulator's pace, when an endpoint is chosen", async () => {
    const user = setup();
    await user.click(radio(/An endpoint/));
    const url = screen.getByLabelText("Endpoint URL") as HTMLInputElement;
    expect(url.value).toBe("http://localhost:4566");
    expect(screen.getByTestId("check-endpoint").textContent?.trim()).toBe("Check");
    expect(screen.queryByLabelText("Pace")).toBeNull();
  });

  it("starts on the endpoint typed", async () => {
    const user = setup();
    await user.click(radio(/An endpoint/));
    const url = screen.getByLabelText("Endpoint URL");
    await user.clear(url);
    await user.type(url, "http://127.0.0.1:5000");
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith({ ...defaults, target: "endpoint", endpoint: "http://127.0.0.1:5000" });
  });

  it("sends the access key typed for the endpoint, and none when left blank or the target changes", async () => {
    const user = setup();
    await user.click(radio(/An endpoint/));
    expect((screen.getByLabelText("Access key") as HTMLInputElement).placeholder).toBe("yours, from your name");
    await user.type(screen.getByLabelText("Access key"), "  AKIASHAREDDESK ");
    await user.click(startButton());
    expect(onstart).toHaveBeenLastCalledWith({
      ...defaults,
      target: "endpoint",
      endpoint: "http://localhost:4566",
      access_key: "AKIASHAREDDESK",
    });
    await user.clear(screen.getByLabelText("Access key"));
    await user.type(screen.getByLabelText("Access key"), "   ");
    await user.click(startButton());
    expect(onstart).toHaveBeenLastCalledWith({ ...defaults, target: "endpoint", endpoint: "http://localhost:4566" });
    await user.type(screen.getByLabelText("Access key"), "AKIASHAREDDESK");
    await user.click(radio(/Built-in emulator/));
    await user.click(startButton());
    expect(onstart).toHaveBeenLastCalledWith(defaults);
  });

  it("sends no endpoint when the learner goes back to the built-in emulator", async () => {
    const user = setup();
    await user.click(radio(/An endpoint/));
    await user.type(screen.getByLabelText("Endpoint URL"), "/x");
    await user.click(radio(/Built-in emulator/));
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith(defaults);
  });

  it("does not start with an endpoint that is not a URL", async () => {
    const user = setup();
    await user.click(radio(/An endpoint/));
    const url = screen.getByLabelText("Endpoint URL") as HTMLInputElement;
    await user.clear(url);
    await user.type(url, "localhost 4566");
    expect(url.validity.valid).toBe(false);
    await user.click(startButton());
    expect(onstart).not.toHaveBeenCalled();
  });
});

describe("StartScreen: checking the endpoint", () => {
  it("checks the URL typed and says it is reachable", async () => {
    const reply: EndpointCheck = { reachable: true, kind: "localstack", message: "LocalStack answers at http://127.0.0.1:4566" };
    vi.mocked(api.checkEndpoint).mockResolvedValue(reply);
    const user = setup();
    await user.click(radio(/An endpoint/));
    const url = screen.getByLabelText("Endpoint URL");
    await user.clear(url);
    await user.type(url, "http://127.0.0.1:4566");
    await user.click(screen.getByTestId("check-endpoint"));
    expect(api.checkEndpoint).toHaveBeenCalledWith("http://127.0.0.1:4566");
    const status = await screen.findByTestId("endpoint-status");
    expect(status.getAttribute("role")).toBe("status");
    expect(status.textContent).toBe("LocalStack answers at http://127.0.0.1:4566");
    expect(status.classList.contains("ok")).toBe(true);
    expect(status.classList.contains("warn")).toBe(false);
  });

  it("says what to do when nothing answers", async () => {
    vi.mocked(api.checkEndpoint).mockResolvedValue({ reachable: false, kind: null, message: "Nothing answers at http://localhost:4566: start LocalStack" });
    const user = setup();
    await user.click(radio(/An endpoint/));
    await user.click(screen.getByTestId("check-endpoint"));
    const status = await screen.findByTestId("endpoint-status");
    expect(status.textContent).toBe("Nothing answers at http://localhost:4566: start LocalStack");
    expect(status.classList.contains("warn")).toBe(true);
    expect(status.classList.contains("ok")).toBe(false);
  });

  it("shows a failed check's error as unreachable", async () => {
    vi.mocked(api.checkEndpoint).mockRejectedValue(commandError("invalid URL: relative URL without a base"));
    const user = setup();
    await user.click(radio(/An endpoint/));
    await user.click(screen.getByTestId("check-endpoint"));
    const status = await screen.findByTestId("endpoint-status");
    expect(status.textContent).toContain("invalid URL: relative URL without a base");
    expect(status.classList.contains("warn")).toBe(true);
  });

  it("says Checking… and cannot be pressed again while it checks", async () => {
    let answer!: (c: EndpointCheck) => void;
    vi.mocked(api.checkEndpoint).mockReturnValue(new Promise((resolve) => (answer = resolve)));
    const user = setup();
    await user.click(radio(/An endpoint/));
    const button = screen.getByTestId("check-endpoint") as HTMLButtonElement;
    await user.click(button);
    expect(button.textContent?.trim()).toBe("Checking…");
    expect(button.disabled).toBe(true);
    expect(screen.queryByTestId("endpoint-status")).toBeNull();
    await user.click(button);
    expect(api.checkEndpoint).toHaveBeenCalledTimes(1);
    answer({ reachable: true, kind: "moto", message: "moto answers" });
    await waitFor(() => expect(button.disabled).toBe(false));
    expect(button.textContent?.trim()).toBe("Check");
    expect(screen.getByTestId("endpoint-status").textContent).toBe("moto answers");
  });
});

describe("StartScreen: learner, mode, consistency, pace", () => {
  it("fills in the default learner and starts with the name typed", async () => {
    const user = setup();
    const name = screen.getByLabelText("Learner name") as HTMLInputElement;
    expect(name.value).toBe("ann");
    await user.tripleClick(name);
    await user.keyboard("bob");
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith({ ...defaults, learner: "bob" });
  });

  it("lets the learner empty the name and type another", async () => {
    const user = setup();
    const name = screen.getByLabelText("Learner name") as HTMLInputElement;
    await user.click(name);
    await user.keyboard("{End}{Backspace}{Backspace}{Backspace}");
    expect(name.value).toBe("");
    await user.keyboard("bob");
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith({ ...defaults, learner: "bob" });
  });

  it("fills in the default name when the app's info arrives after the screen", async () => {
    ui.info = null;
    setup();
    const name = screen.getByLabelText("Learner name") as HTMLInputElement;
    expect(name.value).toBe("");
    ui.info = info;
    await tick();
    expect(name.value).toBe("ann");
  });

  it("offers Step by step in guided mode only", async () => {
    const user = setup();
    expect(radio(/Guided/).checked).toBe(true);
    expect(screen.getByRole("checkbox", { name: /Step by step/ })).toHaveProperty("checked", true);
    await user.click(screen.getByTestId("mode-hands-on"));
    expect(screen.queryByRole("checkbox", { name: /Step by step/ })).toBeNull();
    await user.click(screen.getByTestId("mode-guided"));
    expect(screen.getByRole("checkbox", { name: /Step by step/ })).toBeTruthy();
  });

  it("starts guided straight through when Step by step is off", async () => {
    const user = setup();
    await user.click(screen.getByRole("checkbox", { name: /Step by step/ }));
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith({ ...defaults, step_by_step: false });
  });

  it("names the default pace after the mode", async () => {
    const user = setup();
    const pace = screen.getByLabelText("Pace") as HTMLSelectElement;
    expect(pace.value).toBe("default");
    expect(pace.selectedOptions[0].textContent).toBe("Default (demo)");
    await user.click(screen.getByTestId("mode-hands-on"));
    expect(pace.selectedOptions[0].textContent).toBe("Default (realistic)");
  });

  it("starts hands-on, application-consistent, at the pace chosen", async () => {
    const user = setup();
    await user.click(screen.getByTestId("mode-hands-on"));
    await user.click(radio(/Application-consistent/));
    await user.selectOptions(screen.getByLabelText("Pace"), "instant");
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith({ ...defaults, mode: "hands-on", consistency: "app", pace: "instant" });
  });

  it("records the terminal's commands unless the learner turns it off (hands-on only)", async () => {
    const user = setup();
    expect(screen.queryByTestId("record-commands")).toBeNull();
    await user.click(screen.getByTestId("mode-hands-on"));
    const record = screen.getByTestId("record-commands") as HTMLInputElement;
    expect(record.checked).toBe(true);
    await user.click(record);
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledWith({ ...defaults, mode: "hands-on", record_commands: false });
  });
});

describe("StartScreen: starting", () => {
  it("says Starting… and cannot be pressed twice while the run starts", async () => {
    let started!: () => void;
    onstart.mockReturnValue(new Promise<void>((resolve) => (started = resolve)));
    const user = setup();
    await user.click(startButton());
    expect(startButton().textContent?.trim()).toBe("Starting…");
    expect(startButton()).toHaveProperty("disabled", true);
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledTimes(1);
    started();
    await waitFor(() => expect(startButton()).toHaveProperty("disabled", false));
    expect(startButton().textContent?.trim()).toBe("Start the lab");
  });

  it("leaves the starting itself to the app (no command called from here)", async () => {
    const user = setup();
    await user.click(startButton());
    expect(onstart).toHaveBeenCalledTimes(1);
    expect(api.startRun).not.toHaveBeenCalled();
  });
});

describe("StartScreen: keyboard", () => {
  it("chooses a lab with Enter and another with Space", async () => {
    const user = setup();
    await user.tab();
    expect(document.activeElement).toBe(screen.getByTestId(`lab-${lab.id}`));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByTestId(`lab-${otherLab.id}`));
    await user.keyboard("{Enter}");
    expect(screen.getByTestId(`lab-${otherLab.id}`).getAttribute("aria-pressed")).toBe("true");
    await user.tab({ shift: true });
    await user.keyboard(" ");
    expect(screen.getByTestId(`lab-${lab.id}`).getAttribute("aria-pressed")).toBe("true");
  });

  it("moves between targets with the arrow keys and checks the endpoint with Enter", async () => {
    vi.mocked(api.checkEndpoint).mockResolvedValue({ reachable: true, kind: "snaplab", message: "a snaplab emulator answers" });
    const user = setup();
    radio(/Built-in emulator/).focus();
    await user.keyboard("{ArrowDown}");
    expect(radio(/An endpoint/).checked).toBe(true);
    await user.tab(); // the URL field
    expect(document.activeElement).toBe(screen.getByLabelText("Endpoint URL"));
    await user.tab(); // its Check button
    expect(document.activeElement).toBe(screen.getByTestId("check-endpoint"));
    await user.keyboard("{Enter}");
    expect((await screen.findByTestId("endpoint-status")).textContent).toBe("a snaplab emulator answers");
  });

  it("starts with Enter in the learner field", async () => {
    const user = setup();
    const name = screen.getByLabelText("Learner name");
    await user.click(name);
    await user.keyboard("{End}-2{Enter}");
    expect(onstart).toHaveBeenCalledWith({ ...defaults, learner: "ann-2" });
  });

  it("reaches Start with Tab and starts with Space", async () => {
    const user = setup();
    screen.getByLabelText("Pace").focus();
    await user.tab();
    expect(document.activeElement).toBe(startButton());
    await user.keyboard(" ");
    expect(onstart).toHaveBeenCalledWith(defaults);
  });
});

describe("StartScreen: real AWS", () => {
  /** Chooses Real AWS and waits for the profiles. */
  async function chooseAws() {
    const user = setup();
    await user.click(radio(/Real AWS/));
    await waitFor(() => expect(screen.getByTestId("aws-profile").querySelectorAll("option")).toHaveLength(4));
    return user;
  }
  const awsStart = () => screen.getByTestId("start-lab") as HTMLButtonElement;

  it("offers the learner's profiles (one needing MFA greyed out, with why) and a region, and no start before a preflight", async () => {
    const user = await chooseAws();
    const options = [...screen.getByTestId("aws-profile").querySelectorAll("option")];
    expect(options.map((o) => o.value)).toEqual(["", "lab", "keys", "mfa"]);
    expect(options[3].disabled).toBe(true);
    expect(options[3].title).toContain("MFA");
    await user.selectOptions(screen.getByTestId("aws-profile"), "lab");
    expect((screen.getByTestId("aws-region") as HTMLInputElement).placeholder).toBe("eu-west-1 (the profile's)");
    expect(awsStart().textContent).toContain("Start on AWS");
    expect(awsStart().disabled).toBe(true);
    expect(screen.queryByLabelText("Pace")).toBeNull();
    await user.click(awsStart());
    expect(onstart).not.toHaveBeenCalled();
    expect(api.awsPreflight).not.toHaveBeenCalled();
  });

  it("checks the account chosen and shows every call's answer; a denied one with the statement that allows it, and Start stays off", async () => {
    const denied = preflightView({
      ready: false,
      checks: [
        { action: "ec2:RunInstances", allowed: true, detail: "allowed (DryRun)", statements: [] },
        { action: "ec2:CreateSnapshot", allowed: false, detail: "denied (UnauthorizedOperation): no", statements: ['{ "Action": ["ec2:CreateSnapshot"] }'] },
        { action: "ssm:SendCommand", allowed: null, detail: "could not tell: timeout", statements: [] },
      ],
    });
    vi.mocked(api.awsPreflight).mockResolvedValue(denied);
    const user = await chooseAws();
    await user.selectOptions(screen.getByTestId("aws-profile"), "keys");
    await user.type(screen.getByTestId("aws-region"), "us-west-2");
    await user.click(screen.getByTestId("run-preflight"));
    expect(api.awsPreflight).toHaveBeenCalledWith(lab.id, { profile: "keys", region: "us-west-2" });
    const panel = await screen.findByTestId("preflight");
    expect(panel.dataset.ready).toBe("false");
    const rows = [...panel.querySelectorAll<HTMLElement>("[data-action]")].map((r) => [r.dataset.action, r.dataset.allowed]);
    expect(rows).toEqual([
      ["ec2:RunInstances", "ok"],
      ["ec2:CreateSnapshot", "no"],
      ["ssm:SendCommand", "unknown"],
    ]);
    expect(panel.querySelector("[data-action='ec2:CreateSnapshot'] pre")?.textContent).toContain("ec2:CreateSnapshot");
    expect(screen.getByTestId("preflight-status").textContent).toContain("1 denied or missing, 1 could not be told");
    expect(screen.getByTestId("preflight-cost").textContent).toBe("$0.0123");
    expect(awsStart().disabled).toBe(true);
    expect(screen.queryByTestId("create-instance-profile")).toBeNull();
  });

  it("asks for consent before a run on AWS: Cancel starts nothing, agreeing starts it with the account checked", async () => {
    vi.mocked(api.awsPreflight).mockResolvedValue(preflightView({ endpoint_note: "AWS_ENDPOINT_URL is set: every call goes to http://127.0.0.1:4566, not to AWS." }));
    const user = await chooseAws();
    await user.selectOptions(screen.getByTestId("aws-profile"), "lab");
    await user.click(screen.getByTestId("run-preflight"));
    await screen.findByTestId("preflight");
    expect(screen.getByTestId("preflight-endpoint").textContent).toContain("not to AWS");
    expect(awsStart().disabled).toBe(false);
    await user.click(awsStart());
    const dialog = screen.getByRole("dialog", { name: "Create these in your AWS account?" });
    expect(screen.getByTestId("consent-text").textContent).toContain("snaplab will create, in AWS account 123456789012");
    // The safe answer has the focus: Enter alone does not agree.
    expect(document.activeElement).toBe(screen.getByTestId("consent-cancel"));
    await user.click(screen.getByTestId("consent-cancel"));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(onstart).not.toHaveBeenCalled();
    await user.click(awsStart());
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(onstart).not.toHaveBeenCalled();
    expect(dialog.isConnected).toBe(false);
    await user.click(awsStart());
    await user.click(screen.getByTestId("consent-confirm"));
    expect(onstart).toHaveBeenCalledWith({ ...defaults, target: "aws", aws: { profile: "lab", region: null } });
    // The consent was for that run: the next needs a fresh preflight.
    await waitFor(() => expect(screen.queryByTestId("preflight")).toBeNull());
    expect(awsStart().disabled).toBe(true);
  });

  it("forgets the preflight when the account changes", async () => {
    vi.mocked(api.awsPreflight).mockResolvedValue(preflightView());
    const user = await chooseAws();
    await user.click(screen.getByTestId("run-preflight"));
    await screen.findByTestId("preflight");
    await user.type(screen.getByTestId("aws-region"), "x");
    expect(screen.queryByTestId("preflight")).toBeNull();
    expect(awsStart().disabled).toBe(true);
  });

  it("when only the instance profile is missing, creates it and checks again", async () => {
    vi.mocked(api.awsPreflight)
      .mockResolvedValueOnce(preflightView({ ready: false, only_instance_profile_missing: true }))
      .mockResolvedValueOnce(preflightView());
    vi.mocked(api.awsCreateInstanceProfile).mockResolvedValue(["created role snaplab-ssm", "created instance profile snaplab-ssm"]);
    const user = await chooseAws();
    await user.click(screen.getByTestId("run-preflight"));
    await user.click(await screen.findByTestId("create-instance-profile"));
    expect(api.awsCreateInstanceProfile).toHaveBeenCalledWith({ profile: null, region: null });
    await waitFor(() => expect(screen.getByTestId("preflight").dataset.ready).toBe("true"));
    expect(api.awsPreflight).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId("instance-profile-created").textContent).toContain("created instance profile snaplab-ssm");
    expect(awsStart().disabled).toBe(false);
  });

  it("shows a preflight that cannot run (no credentials) as the app's error", async () => {
    vi.mocked(api.awsPreflight).mockRejectedValue(commandError("no AWS credentials were found", "credentials"));
    const user = await chooseAws();
    await user.click(screen.getByTestId("run-preflight"));
    await waitFor(() => expect(ui.error).toContain("no AWS credentials were found"));
    expect(screen.queryByTestId("preflight")).toBeNull();
  });
});
