"""A labelled, synthetic but realistic complaint history: what the tests and bench/bench_triage.py learn
from and measure on. Each sample is drawn from a failure ("topic") with its own type, responsible
department, priority and hazard, worded by combining openers, a phrasing of the failure, details and
demands, with spoken noise (fillers, dropped characters). The phrasings of every topic are split: the
`heldout` part words only the samples drawn with `heldout=True`, so a measure on them is taken on
wordings the model never saw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# A topic: (key, type code, department code, priority rank, hazard, families, phrasings). {p}: the product.
TOPICS: list[tuple[str, str, str, int, bool, tuple[str, ...], list[str]]] = [
    (
        "lamp_dead",
        "quality",
        "tech",
        3,
        False,
        ("lamp",),
        [
            "{p}装上没几天就不亮了，开关按了没反应",
            "{p}突然不亮，换了插座也不行",
            "{p}通电后完全不亮，指示灯也不闪",
            "{p}用了一周就坏了，灯不亮",
            "{p}时亮时不亮，接触不良",
        ],
    ),
    (
        "lamp_flicker",
        "quality",
        "tech",
        3,
        False,
        ("lamp",),
        [
            "{p}一直闪烁，晚上没法用",
            "{p}频闪很厉害，眼睛难受",
            "{p}开灯后一闪一闪的",
            "{p}亮度忽明忽暗，闪得头晕",
            "{p}低亮度时闪个不停",
        ],
    ),
    (
        "lamp_remote",
        "quality",
        "tech",
        3,
        False,
        ("lamp",),
        [
            "遥控器控制不了{p}，换了电池也不行",
            "{p}的调光功能失灵，只能开最亮档",
            "{p}连不上手机APP，智能模式用不了",
            "{p}遥控没反应，配对多次失败",
            "{p}调色温没有变化，按键失灵",
        ],
    ),
    (
        "lamp_look",
        "quality",
        "quality",
        3,
        False,
        ("lamp",),
        [
            "{p}的灯罩才用几个月就发黄了",
            "{p}灯罩里面有黑点和虫子",
            "{p}边框掉漆生锈，很难看",
            "{p}亮度明显比宣传的暗，一半灯珠不亮",
            "{p}灯罩有裂纹，做工粗糙",
        ],
    ),
    (
        "furn_crack",
        "quality",
        "production",
        3,
        False,
        ("furniture",),
        [
            "{p}用了不到一个月表面就开裂了",
            "{p}桌面起泡变形",
            "{p}的板材受潮膨胀，封边脱落",
            "{p}表面多处掉漆，露出底材",
            "{p}木头裂开一条缝，越来越大",
        ],
    ),
    (
        "furn_smell",
        "quality",
        "quality",
        2,
        False,
        ("furniture",),
        [
            "{p}有很重的异味，通风一个月还有味道",
            "{p}甲醛味刺鼻，孩子闻了咳嗽",
            "{p}打开柜门一股刺鼻气味，熏眼睛",
            "{p}气味很大，怀疑甲醛超标，要求检测报告",
            "{p}味道很冲，放在卧室没法睡",
        ],
    ),
    (
        "furn_hardware",
        "quality",
        "production",
        3,
        False,
        ("furniture",),
        [
            "{p}的五金件松动，门板合不上",
            "{p}抽屉滑轨卡住拉不出来",
            "{p}坐垫塌陷，中间凹下去一块",
            "{p}躺上去吱吱响，结构松了",
            "{p}铰链断了，柜门掉下来",
        ],
    ),
    (
        "hazard_fire",
        "quality",
        "quality",
        1,
        True,
        ("lamp",),
        [
            "{p}突然冒烟了，还有烧焦的味道",
            "{p}灯座起火，差点烧到窗帘",
            "{p}里面烧焦了，电线都黑了",
            "{p}通电后冒烟，赶紧拉了电闸",
            "{p}的驱动电源爆炸了，吓死人",
        ],
    ),
    (
        "hazard_shock",
        "quality",
        "quality",
        1,
        True,
        ("lamp",),
        [
            "摸{p}的开关被电了一下，触电了",
            "{p}外壳漏电，用电笔一测就亮",
            "{p}漏电跳闸，手碰到有麻的感觉",
            "孩子碰了{p}的金属杆，触电哭了",
            "{p}金属外壳带电，碰一下就麻手",
        ],
    ),
    (
        "hazard_fall",
        "quality",
        "quality",
        1,
        True,
        ("furniture", "lamp"),
        [
            "{p}突然倾倒，把孩子砸伤了",
            "{p}的玻璃自己爆裂，碎片把人划伤了",
            "{p}边角太锋利，划伤儿童的手",
            "{p}整个塌了，老人摔倒受伤",
            "{p}从天花板掉下来，砸伤了人",
        ],
    ),
    (
        "service_callback",
        "service",
        "cs",
        3,
        False,
        ("*",),
        [
            "打了三次客服电话都没人回电，{p}的问题一直没人处理",
            "客服态度很差，说话不耐烦，直接挂电话",
            "售后说好回电，到现在没有任何消息",
            "门店说找厂家，厂家说找门店，互相推诿",
            "在线客服一直是机器人，找不到人工",
        ],
    ),
    (
        "logistics_damage",
        "logistics",
        "warehouse",
        3,
        False,
        ("*",),
        [
            "{p}送到时外包装破损，里面也有磕碰",
            "物流显示已签收，但是根本没收到{p}",
            "{p}比承诺时间晚了一周才送到",
            "快递员把{p}扔在门口，箱子都压扁了",
            "送货师傅要加收上楼费，事先没说",
        ],
    ),
    (
        "delivery_wrong",
        "delivery",
        "sales",
        3,
        False,
        ("*",),
        [
            "收到的{p}少了配件，说明书写的螺丝包没有",
            "发错货了，订的不是这个款式的{p}",
            "约好的配送时间没人来，请了一天假白等",
            "{p}的发票一直没有开给我",
            "订单显示发货一个月了还没到，催了也没用",
        ],
    ),
    (
        "price_gap",
        "price",
        "sales",
        3,
        False,
        ("*",),
        [
            "刚买的{p}过几天就降价了，要求补差价",
            "门店报价和官网价格不一致，{p}贵了好几百",
            "活动说好的赠品没有给",
            "优惠券用不了，结算价格比宣传的高",
            "同一个{p}在别的平台便宜很多，要求退差价",
        ],
    ),
    (
        "install_bad",
        "installation",
        "tech",
        3,
        False,
        ("*",),
        [
            "安装师傅迟到了三个小时，也没有提前通知",
            "{p}安装不牢，用了几天就松动了",
            "安装时打孔位置错了，墙面多了几个洞",
            "安装师傅把地板划伤了，还不承认",
            "{p}装好后歪的，师傅说就这样",
        ],
    ),
    (
        "other_ask",
        "other",
        "cs",
        3,
        False,
        ("*",),
        [
            "想咨询一下{p}的保修政策，一直说不清楚",
            "会员积分没有到账",
            "对你们的产品宣传有意见，和实物差太多",
            "小区团购的{p}，希望统一安排售后",
            "想问一下{p}有没有配套的灯泡卖",
        ],
    ),
]

OPENERS = [
    "",
    "",
    "你好，",
    "您好，",
    "我在门店买的",
    "上个月网购的",
    "朋友推荐买的",
    "去年装修买的",
    "我家的",
    "客户反映",
]
DETAILS = [
    "",
    "",
    "",
    "已经拍了照片。",
    "家里有老人小孩。",
    "用了不到半年。",
    "型号是{m}。",
    "在{r}。",
    "已经联系过经销商。",
    "之前也反映过一次。",
    "包装还留着。",
]
DEMANDS = [
    "",
    "要求退货退款。",
    "要求换新。",
    "希望尽快上门处理。",
    "请给个说法。",
    "要求赔偿。",
    "再不处理就投诉到消协。",
    "希望今天有人回电话。",
]
ANGRY = ["第三次打电话了，", "已经等了两个星期，", "非常生气，", "如果再不解决就找媒体曝光，"]
FILLERS = ["那个", "就是", "嗯", "然后", "反正"]
# Sentences that name a hazard word only to deny it: not a hazard.
NEGATED = [
    "没有冒烟，",
    "没有起火也没有焦味，",
    "不是漏电，",
    "没有触电，",
    "不存在安全问题，",
    "未起火，",
]
REGIONS = ["广东深圳", "浙江杭州", "江苏南京", "四川成都", "湖北武汉", "山东济南", "北京", "上海"]

LINES = {
    "lamp": [
        ("ceiling", "吸顶灯", "XD", ["LED吸顶灯", "卧室吸顶灯", "客厅吸顶灯", "儿童房吸顶灯", "阳台吸顶灯"]),
        ("desk-lamp", "台灯", "TD", ["护眼台灯", "折叠充电台灯", "学生台灯", "床头台灯"]),
        ("pendant", "吊灯", "DD", ["水晶吊灯", "餐厅吊灯", "线条吊灯", "铁艺吊灯"]),
    ],
    "furniture": [
        ("sofa", "沙发", "SF", ["布艺沙发", "真皮沙发", "懒人沙发"]),
        ("cabinet", "柜子", "GZ", ["衣柜", "鞋柜", "电视柜", "书柜"]),
        ("bed", "床", "CH", ["实木床", "儿童床", "上下铺"]),
    ],
}


@dataclass
class Sample:
    description: str
    product_text: str
    model: str  # the catalogue model named by the sample (empty: none)
    line: str  # product line code
    topic: str
    type_code: str
    department_code: str
    priority: int
    hazard: bool


def _pick_phrasing(rng: random.Random, phrasings: list[str], heldout: bool) -> str:
    # The last phrasing of each topic is only ever seen in held-out samples.
    return phrasings[-1] if heldout else rng.choice(phrasings[:-1])


def _noisy(rng: random.Random, text: str) -> str:
    if rng.random() < 0.3:
        cut = rng.randrange(len(text))
        text = text[:cut] + rng.choice(FILLERS) + text[cut:]
    if rng.random() < 0.15 and len(text) > 6:
        cut = rng.randrange(1, len(text) - 1)
        text = text[:cut] + text[cut + 1 :]  # a character lost in typing
    return text


def sample(rng: random.Random, *, heldout: bool = False, topic: str | None = None, line: str | None = None) -> Sample:
    """One labelled complaint. `topic`/`line`: drawn from that topic and product line."""
    key, type_code, dept, priority, hazard, families, phrasings = (
        next(t for t in TOPICS if t[0] == topic) if topic else rng.choice(TOPICS)
    )
    if line:
        family = next(f for f, lines in LINES.items() if any(x[0] == line for x in lines))
    else:
        family = rng.choice(["lamp", "furniture"]) if "*" in families else rng.choice(families)
    lines = LINES[family]
    line_code, line_name, prefix, names = next(x for x in lines if x[0] == line) if line else rng.choice(lines)
    model = f"{prefix}-{1001 + rng.randrange(len(names))}"
    name = rng.choice(names)
    mention = rng.choice(
        [name, line_name, model, f"{line_name}（{model}）", "这个" + line_name, "灯" if family == "lamp" else "家具"]
    )
    text = _pick_phrasing(rng, phrasings, heldout).format(p=mention)
    negated = False
    if not hazard and rng.random() < 0.08:
        text = rng.choice(NEGATED) + text
        negated = True
    if not hazard and not negated and priority == 3 and rng.random() < 0.15:
        text = rng.choice(ANGRY) + text
        priority = 2
    detail = rng.choice(DETAILS).format(m=model, r=rng.choice(REGIONS))
    description = _noisy(rng, rng.choice(OPENERS) + text + "。" + detail + rng.choice(DEMANDS))
    # Label noise as in a real history: one in twenty is sent to a department by someone's judgement.
    if rng.random() < 0.05:
        dept = rng.choice(["cs", "tech", "quality", "production", "warehouse", "sales"])
    product_text = rng.choice(["", "", name, model, line_name])
    return Sample(
        description=description,
        product_text=product_text,
        model=model if model in description or model == product_text else "",
        line=line_code,
        topic=key,
        type_code=type_code,
        department_code=dept,
        priority=priority,
        hazard=hazard,
    )


def history(n: int, *, seed: int, heldout: bool = False) -> list[Sample]:
    rng = random.Random(seed)
    return [sample(rng, heldout=heldout) for _ in range(n)]
