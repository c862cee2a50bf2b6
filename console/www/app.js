/*
 * The clusterd console's page: plain JavaScript, no framework, no build
 * step, nothing loaded from elsewhere. It asks the console's /api/ and
 * shows the answers; every action asks for confirmation after showing the
 * plan or the preflight, and follows its progress.
 */
"use strict";

const POLL_MS = 2000;
const VMS_PAGE = 50;

let csrf = "";
let eventsAfter = 0;
let timers = [];
let vmPages = [""]; /* the "after" of each page seen; the last is the current one */

const $ = (sel) => document.querySelector(sel);

/* An element with attributes and children (strings become text, never HTML). */
function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null) continue;
		if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
		else e.setAttribute(k, v);
	}
	for (const k of kids) e.append(k instanceof Node ? k : String(k ?? ""));
	return e;
}

function showError(msg) {
	$("#error").textContent = msg || "";
}

/* One API call: the answer's JSON, or an Error with clusterd's words and the answer. */
async function api(method, path, body) {
	const opts = { method, headers: {}, credentials: "same-origin" };
	if (method !== "GET") {
		opts.headers["X-CSRF-Token"] = csrf;
		opts.headers["Content-Type"] = "application/json";
		opts.body = JSON.stringify(body || {});
	}
	const r = await fetch(path, opts);
	let j = {};
	try {
		j = await r.json();
	} catch (e) {
		j = { error: r.statusText };
	}
	if (r.status === 401 && path !== "/api/login") {
		loggedOut();
		throw Object.assign(new Error("not logged in"), { status: 401, reply: j });
	}
	if (!r.ok) throw Object.assign(new Error(j.error || r.statusText), { status: r.status, reply: j });
	return j;
}

function fill(tbody, rows) {
	tbody.replaceChildren(...rows);
}

/* ---- log in, log out ---- */

function loggedOut() {
	csrf = "";
	timers.forEach(clearInterval);
	timers = [];
	$("#console").hidden = true;
	$("#logout").hidden = true;
	$("#whoami").hidden = true;
	$("#login").hidden = false;
	$("#login-user").focus();
}

function loggedIn(session) {
	csrf = session.csrf;
	$("#login").hidden = true;
	$("#console").hidden = false;
	$("#logout").hidden = false;
	$("#whoami").hidden = false;
	$("#whoami").textContent = session.user;
	refreshAll();
	timers.push(setInterval(refreshAll, 5 * POLL_MS));
	timers.push(setInterval(pollEvents, POLL_MS));
	pollEvents();
}

async function login(ev) {
	ev.preventDefault();
	$("#login-error").textContent = "";
	$("#login-submit").disabled = true;
	try {
		const s = await api("POST", "/api/login", {
			user: $("#login-user").value,
			password: $("#login-pass").value,
		});
		$("#login-pass").value = "";
		loggedIn(s);
	} catch (e) {
		$("#login-error").textContent = e.message;
	} finally {
		$("#login-submit").disabled = false;
	}
}

async function logout() {
	try {
		await api("POST", "/api/logout");
	} catch (e) {
		/* logged out either way */
	}
	loggedOut();
}

/* ---- confirmation ---- */

/* Show title and body (nodes) and resolve to whether the admin confirmed. */
function confirmAction(title, body, okText) {
	const d = $("#confirm");
	$("#confirm-title").textContent = title;
	$("#confirm-body").replaceChildren(...body);
	$("#confirm-ok").textContent = okText || "Confirm";
	$("#confirm-ok").disabled = false;
	return new Promise((resolve) => {
		d.addEventListener("close", () => resolve(d.returnValue === "ok"), { once: true });
		d.returnValue = "cancel";
		d.showModal();
	});
}

/*
 * A confirmation whose Confirm waits for a preflight: the dialog opens at
 * once, load(box) fills box with the plan or preflight and resolves to
 * whether the action may go ahead; box's data-ok says so ("yes"/"no"),
 * once known. Resolves to whether the admin confirmed after it passed.
 */
async function confirmChecked(title, okText, id, load) {
	const box = el("div", { id }, "checking…");
	const ask = confirmAction(title, [box], okText);
	$("#confirm-ok").disabled = true;
	let ok = false;
	try {
		ok = !!(await load(box));
	} catch (e) {
		box.append(el("p", { class: "error" }, e.message));
	}
	box.dataset.ok = ok ? "yes" : "no";
	$("#confirm-ok").disabled = !ok;
	return (await ask) && ok;
}

/* ---- overview, nodes ---- */

async function refreshOverview() {
	const s = await api("GET", "/api/status");
	$("#cluster-name").textContent = s.cluster_name || "";
	const v = s.version || {};
	const items = [
		["Cluster", s.cluster_name || "-"],
		["Quorum", (s.quorate ? "quorate" : "NOT QUORATE: changes are refused") +
			` (${s.total_votes ?? "?"} of ${s.expected_votes ?? "?"} votes, quorum ${s.quorum ?? "?"})`],
		["Coordinator", s.coordinator_name || "-"],
		["State", `version ${v.epoch ?? "?"}.${v.seq ?? "?"}, ` + (s.synced ? "synchronised" : s.sync_phase || "")],
	];
	$("#overview").replaceChildren(...items.flatMap(([k, val]) => [el("dt", {}, k), el("dd", {}, val)]));
	$("#overview").dataset.quorate = s.quorate ? "yes" : "no";
}

async function refreshNodes() {
	const r = await api("GET", "/api/nodes");
	const nodes = r.nodes || [];
	let counts = {};
	try {
		const vms = await api("GET", `/api/vms?limit=1000`);
		for (const v of vms.vms || []) if (v.node_name) counts[v.node_name] = (counts[v.node_name] || 0) + 1;
	} catch (e) {
		counts = {};
	}
	fill($("#overview-nodes tbody"), nodes.map((n) =>
		el("tr", { "data-node": n.name }, el("td", {}, n.name), el("td", {}, n.state),
			el("td", {}, counts[n.name] || 0))));
	fill($("#nodes tbody"), nodes.map((n) =>
		el("tr", { "data-node": n.name },
			el("td", {}, n.name + (n.local ? " (this node)" : "")),
			el("td", { class: "state" }, n.state),
			el("td", {}, (n.addresses || []).join(", ")),
			el("td", {},
				el("button", { type: "button", "data-action": "drain", "data-node": n.name,
					onclick: () => drainNode(n.name) }, "Drain"),
				el("button", { type: "button", "data-action": "resume", "data-node": n.name,
					onclick: () => resumeNode(n.name) }, "Resume")))));
	return nodes;
}

/* ---- VMs ---- */

async function refreshVms() {
	const after = vmPages[vmPages.length - 1];
	const q = `limit=${VMS_PAGE}` + (after ? `&after=${encodeURIComponent(after)}` : "");
	const r = await api("GET", `/api/vms?${q}`);
	fill($("#vms tbody"), (r.vms || []).map((v) =>
		el("tr", { "data-vm": v.name },
			el("td", {}, v.name),
			el("td", { class: "state" }, v.state),
			el("td", {}, v.node_name || "-"),
			el("td", {},
				el("button", { type: "button", "data-action": "start", "data-vm": v.name,
					onclick: () => startVm(v.name) }, "Start"),
				el("button", { type: "button", "data-action": "stop", "data-vm": v.name,
					onclick: () => stopVm(v.name) }, "Stop"),
				el("button", { type: "button", "data-action": "move", "data-vm": v.name,
					onclick: () => moveVm(v.name) }, "Move")))));
	$("#vms-page").textContent = `page ${vmPages.length}, ${r.total ?? "?"} VMs`;
	$("#vms-prev").disabled = vmPages.length < 2;
	$("#vms-next").disabled = !r.next;
	$("#vms-next").dataset.after = r.next || "";
}

/* Start a VM: placement's answer to "where would it start?" first. */
async function startVm(name) {
	const path = `/api/vms/${encodeURIComponent(name)}`;
	const ok = await confirmChecked(`Start ${name}?`, "Start", "start-check", async (box) => {
		const r = await api("POST", `${path}/start-check`);
		box.replaceChildren(el("p", {}, `${name} is ${r.state}` + (r.node_name ? ` on ${r.node_name}` : "") + "."),
			el("pre", { id: "start-report" }, r.explanation || ""));
		if (r.state === "running" || r.state === "starting") {
			box.append(el("p", {}, `${name} runs already: nothing to start.`));
			return false;
		}
		return true;
	});
	if (!ok) return;
	await vmAction(name, "start", {});
}

/* Stop a VM: where it runs and how it is to stop, first. */
async function stopVm(name) {
	const how = el("select", { id: "stop-mode" },
		el("option", { value: "" }, "shut down (powered off after the stop timeout)"),
		el("option", { value: "force" }, "power off at once"),
		el("option", { value: "save" }, "save its memory (vm start restores it)"));
	const ok = await confirmChecked(`Stop ${name}?`, "Stop", "stop-check", async (box) => {
		const v = await api("GET", `/api/vms/${encodeURIComponent(name)}`);
		const runs = ["running", "starting", "migrating"].includes(v.state);
		box.replaceChildren(
			el("p", { id: "stop-report" }, `${name} is ${v.state}` + (v.node_name ? ` on ${v.node_name}` : "") +
				(runs ? `: it stops there and stays stopped (its target becomes stopped) until started again.`
					: ": it runs nowhere; stopping it only makes sure it stays stopped.")),
			el("label", {}, "How ", how));
		return v.state !== "stopped";
	});
	if (!ok) return;
	await vmAction(name, "stop", { force: how.value === "force", save: how.value === "save" });
}

async function vmAction(name, action, body) {
	try {
		await api("POST", `/api/vms/${encodeURIComponent(name)}/${action}`, body);
		showError("");
		followVm(name, action === "start" ? "running" : "stopped");
	} catch (e) {
		showError(`${action} ${name}: ${e.message}`);
	}
}

/*
 * Every POLL_MS, await step until it says it is over (false) or fails (its
 * message in box); then done.
 */
function follow(box, step, done) {
	const t = setInterval(async () => {
		try {
			if (await step()) return;
		} catch (e) {
			box.replaceChildren(el("p", { class: "error" }, e.message));
		}
		clearInterval(t);
		done();
	}, POLL_MS);
	timers.push(t);
}

/*
 * Follow a VM after a start or stop until it is in state want (or failed):
 * #vm-progress says so, with data-vm, data-want and data-state.
 */
function followVm(name, want) {
	const box = $("#vm-progress");
	box.hidden = false;
	box.dataset.vm = name;
	box.dataset.want = want;
	box.dataset.state = "";
	box.replaceChildren(el("p", {}, `${name}: asked to be ${want}`));
	follow(box, async () => {
		const v = await api("GET", `/api/vms/${encodeURIComponent(name)}`);
		box.dataset.state = v.state;
		box.replaceChildren(el("p", {}, `${name}: ${v.state}` + (v.node_name ? ` on ${v.node_name}` : "") +
			(v.state === want ? "" : `, to be ${want}`) + (v.last_error ? ` (${v.last_error})` : "")));
		return v.state !== want && v.state !== "failed";
	}, refreshVms);
}

/* The preflight's words, as clusterd wrote them. */
function reportNodes(reply) {
	const out = [el("pre", { id: "move-report" }, reply.text || JSON.stringify(reply.report || reply, null, 2))];
	if (reply.facts_error) out.push(el("p", { class: "error" }, "not asked: " + reply.facts_error));
	return out;
}

async function moveVm(name) {
	let nodes = [];
	try {
		nodes = (await api("GET", "/api/nodes")).nodes || [];
	} catch (e) {
		showError(e.message);
		return;
	}
	const target = el("select", { id: "move-node" }, el("option", { value: "" }, "(where the cluster places it)"),
		...nodes.map((n) => el("option", { value: n.name }, n.name)));
	const mode = el("select", { id: "move-mode" }, el("option", { value: "" }, "(default)"),
		...["live", "quick", "cold"].map((m) => el("option", { value: m }, m)));
	const result = el("div", { id: "move-check" });
	const check = el("button", { type: "button", id: "move-check-run" }, "Check");
	const args = () => ({ ...(target.value ? { node: target.value } : {}), ...(mode.value ? { mode: mode.value } : {}) });
	let checked = false;
	check.addEventListener("click", async () => {
		result.replaceChildren("checking…");
		try {
			const r = await api("POST", `/api/vms/${encodeURIComponent(name)}/move-check`, args());
			result.replaceChildren(...reportNodes(r));
			checked = !!(r.report && r.report.ok);
			result.dataset.ok = checked ? "yes" : "no";
		} catch (e) {
			result.replaceChildren(...(e.reply ? reportNodes(e.reply) : []), el("p", { class: "error" }, e.message));
			checked = false;
			result.dataset.ok = "no";
		}
		$("#confirm-ok").disabled = !checked;
	});
	const body = [el("label", {}, "Target ", target), el("label", {}, " Mode ", mode), check, result];
	const ask = confirmAction(`Move ${name}`, body, "Move");
	$("#confirm-ok").disabled = true; /* the preflight first */
	target.addEventListener("change", () => { $("#confirm-ok").disabled = true; });
	mode.addEventListener("change", () => { $("#confirm-ok").disabled = true; });
	check.click();
	if (!(await ask) || !checked) return;
	try {
		await api("POST", `/api/vms/${encodeURIComponent(name)}/move`, args());
		showError("");
		followMove(name);
	} catch (e) {
		showError(`move ${name}: ${e.message}`);
	}
}

/* The percent of a move's progress, or null. */
function percentOf(p) {
	if (!p) return null;
	if (typeof p.percent === "number" && p.percent >= 0) return p.percent;
	if (p.memory_total && p.memory_processed !== undefined)
		return Math.min(100, Math.floor((100 * p.memory_processed) / p.memory_total));
	return null;
}

function progressBar(pct) {
	return el("progress", { max: 100, ...(pct === null ? {} : { value: pct }) });
}

/*
 * Follow a VM's move until it ended: its phase and percent in #move-progress,
 * also as its data-phase and data-percent, and the outcome as data-state.
 */
function followMove(name) {
	const box = $("#move-progress");
	box.hidden = false;
	box.dataset.vm = name;
	box.dataset.state = "running";
	box.dataset.phase = "";
	box.dataset.percent = "";
	follow(box, async () => {
		const s = await api("GET", `/api/vms/${encodeURIComponent(name)}/move`);
		if (s.move) {
			const pct = percentOf(s.progress);
			box.dataset.phase = s.move.phase || "";
			box.dataset.percent = pct === null ? "" : String(pct);
			box.replaceChildren(el("p", {}, `${name}: ${s.move.source || "?"} → ${s.move.target || "?"} (${s.move.mode || "?"}), ${s.move.phase || ""}` +
				(pct === null ? "" : `, ${pct}%`)), progressBar(pct));
			return true;
		}
		const last = s.last_move || {};
		box.dataset.phase = "";
		box.dataset.state = last.outcome || "ended";
		box.replaceChildren(el("p", {}, `${name}: move ${last.outcome || "ended"}` +
			(last.error ? `: ${last.error}` : "") + `; now ${s.state} on ${s.node || "-"}`));
		return false;
	}, refreshVms);
}

/* ---- drains ---- */

function planTable(vms) {
	return el("table", { class: "plan" },
		el("thead", {}, el("tr", {}, ...["VM", "Target", "Method", "State", "Progress"].map((h) => el("th", {}, h)))),
		el("tbody", {}, ...(vms || []).map((v) => el("tr", { "data-vm": v.vm },
			el("td", {}, v.vm), el("td", {}, v.target || "-"), el("td", {}, v.method || ""),
			el("td", {}, v.state + (v.blocker ? `: ${v.blocker}` : "")),
			el("td", {}, v.phase || "", v.percent >= 0 ? ` ${v.percent}%` : "")))));
}

async function drainNode(node) {
	let plan;
	try {
		plan = await api("POST", `/api/nodes/${encodeURIComponent(node)}/drain`, { dry_run: true });
	} catch (e) {
		showError(`drain ${node}: ${e.message}`);
		return;
	}
	const body = [
		el("p", {}, `Mode ${plan.mode}, ${plan.parallel} at a time, about ${plan.eta_s} s.` +
			(plan.blocked ? " Some VMs can move nowhere: the drain would end blocked." : "")),
		planTable(plan.plan),
	];
	if (!(await confirmAction(`Drain ${node}?`, body, "Drain"))) return;
	try {
		await api("POST", `/api/nodes/${encodeURIComponent(node)}/drain`, { dry_run: false });
		showError("");
		followDrain(node);
	} catch (e) {
		showError(`drain ${node}: ${e.message}`);
	}
}

/* Follow node's drain until it no longer runs: each VM's state, and the moving ones' percent. */
function followDrain(node) {
	const box = $("#drain-progress");
	box.hidden = false;
	box.dataset.node = node;
	box.dataset.state = "running";
	follow(box, async () => {
		const s = await api("GET", `/api/nodes/${encodeURIComponent(node)}/drain`);
		for (const v of s.vms || []) {
			if (v.state !== "moving") continue;
			try {
				const m = await api("GET", `/api/vms/${encodeURIComponent(v.vm)}/move`);
				const pct = percentOf(m.progress);
				if (pct !== null) v.percent = pct;
			} catch (e) {
				/* the drain's own record is shown */
			}
		}
		box.dataset.state = s.state;
		box.replaceChildren(el("p", {}, `Drain of ${node}: ${s.state}` + (s.why ? ` (${s.why})` : "")), planTable(s.vms));
		return s.state === "running";
	}, refreshNodes);
}

/* The VMs a resume of node brings back with failback fb: their first preferred owner is node, they run elsewhere. */
function returning(vms, node, fb) {
	return vms.filter((v) => (v.preferred_owners || [])[0] === node && v.state === "running" &&
		v.node_name !== node && (fb === "now" || (fb === "policy" && v.failback !== "never")));
}

/* Resume a node: its state and the VMs that would come back to it, first. */
async function resumeNode(node) {
	const fb = el("select", { id: "resume-failback" },
		...[["policy", "each VM's failback policy"], ["now", "now"], ["never", "never"]]
			.map(([v, t]) => el("option", { value: v }, t)));
	const ok = await confirmChecked(`Resume ${node}?`, "Resume", "resume-check", async (box) => {
		const n = ((await api("GET", "/api/nodes")).nodes || []).find((x) => x.name === node);
		if (!n) throw new Error(`no node ${node}`);
		const vms = (await api("GET", "/api/vms?limit=1000")).vms || [];
		const back = el("ul", { id: "resume-returning" });
		const show = () => {
			const r = returning(vms, node, fb.value);
			back.replaceChildren(...(r.length ? r.map((v) => el("li", { "data-vm": v.name }, `${v.name} (on ${v.node_name})`))
				: [el("li", {}, "none")]));
		};
		fb.addEventListener("change", show);
		show();
		box.replaceChildren(el("p", { id: "resume-report" }, `${node} is ${n.state}; once resumed it takes VMs again.`),
			el("label", {}, "Failback ", fb), el("p", {}, "VMs that come back to it:"), back);
		return true;
	});
	if (!ok) return;
	try {
		await api("POST", `/api/nodes/${encodeURIComponent(node)}/resume`, { failback: fb.value });
		showError("");
		refreshNodes();
	} catch (e) {
		showError(`resume ${node}: ${e.message}`);
	}
}

/* ---- volumes, fence devices, maintenance ---- */

async function refreshJson(path, sel) {
	$(sel).textContent = JSON.stringify(await api("GET", path), null, 2);
}

/* A schedule in words: its nodes, when, its next run and its last run's outcome. */
function maintSummary(m) {
	const nodes = Array.isArray(m.nodes) ? m.nodes.join(", ") : m.nodes;
	const run = m.run ? `run ${m.run.id} ${m.run.outcome}` + (m.run.why ? ` (${m.run.why})` : "") : "never ran";
	return `${nodes}; ${m.schedule_text || m.schedule || ""}` + (m.next ? `; next ${m.next}` : "") + `; ${run}`;
}

async function refreshMaintenance() {
	const r = await api("GET", "/api/maintenance");
	const list = r.schedules || r.maintenance || r.items || [];
	fill($("#maintenance tbody"), list.map((m) =>
		el("tr", { "data-maintenance": m.name },
			el("td", {}, m.name),
			el("td", {}, maintSummary(m)),
			el("td", {}, el("button", { type: "button", "data-action": "run", "data-maintenance": m.name,
				onclick: () => runMaintenance(m) }, "Run now")))));
}

function msText(ms) {
	const m = Math.round(ms / 60000);
	return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

/*
 * Run a schedule now: its steps and, node by node in its order, the plan
 * of the drain each would get if it were drained now, first.
 */
async function runMaintenance(m) {
	let before = 0;
	const ok = await confirmChecked(`Run maintenance ${m.name} now?`, "Run now", "maint-plan", async (box) => {
		const cur = (((await api("GET", "/api/maintenance")).maintenance || []).find((x) => x.name === m.name)) || m;
		const nodes = Array.isArray(cur.nodes) ? cur.nodes
			: ((await api("GET", "/api/nodes")).nodes || []).map((n) => n.name);
		const parts = [
			el("p", {}, `One node at a time, in this order: ${nodes.join(", ")}. For each: a health gate, a ` +
				`${cur.mode || "live"} drain, the pre command (${cur.pre || "none"}), the node back and healthy, ` +
				`the post command (${cur.post || "none"}), a resume. A failed node stays drained and paused; the run ` +
				`stops after ${cur.max_failed} failed node(s); ` + (cur.window_ms ? `window ${msText(cur.window_ms)}.` : "no window."))];
		for (const n of nodes) {
			try {
				const plan = await api("POST", `/api/nodes/${encodeURIComponent(n)}/drain`, { dry_run: true });
				parts.push(el("h3", {}, `${n}: ${(plan.plan || []).length} VM(s) to move, about ${plan.eta_s} s` +
					(plan.blocked ? "; some can move nowhere: this node would fail" : "")));
				if ((plan.plan || []).length) parts.push(planTable(plan.plan));
			} catch (e) {
				parts.push(el("h3", {}, `${n}: ${e.message}`));
			}
		}
		const running = cur.run && cur.run.outcome === "running";
		if (running) parts.push(el("p", { class: "error" }, `${m.name} is running already.`));
		box.replaceChildren(...parts);
		before = cur.run ? cur.run.id : 0;
		return !running;
	});
	if (!ok) return;
	try {
		await api("POST", `/api/maintenance/${encodeURIComponent(m.name)}/run`);
		showError("");
		followMaintenance(m.name, before);
	} catch (e) {
		showError(`maintenance ${m.name}: ${e.message}`);
	}
}

/*
 * Follow a schedule's run newer than run id before until it ended: the
 * node at hand and its phase in #maint-progress, the outcome as data-state
 * ("waiting" until the coordinator began it).
 */
function followMaintenance(name, before) {
	const box = $("#maint-progress");
	box.hidden = false;
	box.dataset.maintenance = name;
	box.dataset.state = "waiting";
	box.replaceChildren(el("p", {}, `${name}: asked to run now`));
	follow(box, async () => {
		const m = ((await api("GET", "/api/maintenance")).maintenance || []).find((x) => x.name === name);
		const run = m && m.run;
		if (!run || run.id <= before) return true;
		const at = (run.nodes || [])[run.idx];
		box.dataset.state = run.outcome;
		box.replaceChildren(el("p", {}, `${name}, run ${run.id}: ${run.outcome}` +
			(run.outcome === "running" && at ? `, ${at.node} at ${run.phase}` : "") + (run.why ? ` (${run.why})` : "")),
			el("ul", {}, ...(run.nodes || []).map((n) => el("li", { "data-node": n.node },
				`${n.node}: ${n.outcome}` + (n.why ? ` (${n.why})` : "")))));
		return run.outcome === "running";
	}, () => {
		refreshMaintenance();
		refreshNodes();
	});
}

/* ---- events ---- */

async function pollEvents() {
	try {
		const r = await api("GET", `/api/events?after=${eventsAfter}`);
		const tbody = $("#events tbody");
		for (const e of r.events || []) {
			tbody.prepend(el("tr", { "data-seq": e.seq },
				el("td", {}, new Date(e.time_ms).toLocaleString()),
				el("td", {}, e.kind), el("td", {}, e.subject), el("td", {}, e.text)));
			eventsAfter = Math.max(eventsAfter, e.seq);
		}
		if (typeof r.last === "number" && r.last < eventsAfter) eventsAfter = r.last; /* clusterd restarted */
		while (tbody.rows.length > 500) tbody.deleteRow(-1);
	} catch (e) {
		/* shown by the next refresh */
	}
}

/* ---- everything ---- */

async function refreshAll() {
	const parts = [refreshOverview(), refreshNodes(), refreshVms(), refreshJson("/api/volumes", "#volumes"),
		refreshJson("/api/fence", "#fence"), refreshMaintenance()];
	const res = await Promise.allSettled(parts);
	const bad = res.find((r) => r.status === "rejected" && r.reason.status !== 401);
	showError(bad ? bad.reason.message : "");
}

function showTab(name) {
	for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
	for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== `tab-${name}`;
}

document.addEventListener("DOMContentLoaded", async () => {
	$("#login-form").addEventListener("submit", login);
	$("#logout").addEventListener("click", logout);
	for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
	$("#vms-next").addEventListener("click", () => {
		vmPages.push($("#vms-next").dataset.after);
		refreshVms();
	});
	$("#vms-prev").addEventListener("click", () => {
		if (vmPages.length > 1) vmPages.pop();
		refreshVms();
	});
	try {
		loggedIn(await api("GET", "/api/session"));
	} catch (e) {
		loggedOut();
	}
});
