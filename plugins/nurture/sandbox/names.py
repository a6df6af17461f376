"""Vocabulary of the simulated world: names, industries, titles, pages.

Plain tuples so world generation can index them with numpy arrays.
Japanese entries carry a romanisation used to build e-mail addresses and domains.
"""

from __future__ import annotations

JP_LAST: tuple[tuple[str, str], ...] = (
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山田", "yamada"),
    ("佐々木", "sasaki"),
    ("山口", "yamaguchi"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("林", "hayashi"),
    ("斎藤", "saito"),
    ("清水", "shimizu"),
    ("山崎", "yamazaki"),
    ("森", "mori"),
    ("池田", "ikeda"),
    ("橋本", "hashimoto"),
    ("阿部", "abe"),
    ("石川", "ishikawa"),
    ("前田", "maeda"),
    ("藤田", "fujita"),
    ("小川", "ogawa"),
    ("岡田", "okada"),
    ("後藤", "goto"),
    ("長谷川", "hasegawa"),
)
JP_FIRST: tuple[tuple[str, str], ...] = (
    ("太郎", "taro"),
    ("翔", "sho"),
    ("大輔", "daisuke"),
    ("健太", "kenta"),
    ("拓也", "takuya"),
    ("直樹", "naoki"),
    ("誠", "makoto"),
    ("浩二", "koji"),
    ("隆", "takashi"),
    ("和也", "kazuya"),
    ("陽子", "yoko"),
    ("美咲", "misaki"),
    ("花子", "hanako"),
    ("由美", "yumi"),
    ("愛", "ai"),
    ("恵", "megumi"),
    ("真由美", "mayumi"),
    ("さくら", "sakura"),
    ("彩", "aya"),
    ("優子", "yuko"),
    ("裕子", "hiroko"),
    ("智子", "tomoko"),
    ("亮", "ryo"),
    ("悠人", "yuto"),
)
EN_LAST: tuple[str, ...] = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Lee",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Scott",
)
EN_FIRST: tuple[str, ...] = (
    "James",
    "John",
    "Robert",
    "Michael",
    "David",
    "William",
    "Daniel",
    "Matthew",
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Emily",
    "Sarah",
    "Jessica",
    "Laura",
    "Alex",
    "Chris",
    "Kevin",
    "Brian",
    "Emma",
    "Olivia",
    "Sophia",
    "Grace",
)

# Company name parts: (display, romanisation for the domain).
JP_STEM: tuple[tuple[str, str], ...] = (
    ("サクラ", "sakura"),
    ("アオバ", "aoba"),
    ("ミドリ", "midori"),
    ("ヒカリ", "hikari"),
    ("大和", "yamato"),
    ("東邦", "toho"),
    ("日進", "nisshin"),
    ("北斗", "hokuto"),
    ("富士", "fuji"),
    ("三栄", "san-ei"),
    ("昭和", "showa"),
    ("平和", "heiwa"),
    ("ツバサ", "tsubasa"),
    ("アサヒ", "asahi"),
    ("中央", "chuo"),
    ("光陽", "koyo"),
    ("東洋", "toyo"),
    ("新星", "shinsei"),
    ("丸山", "maruyama"),
    ("協和", "kyowa"),
    ("ABC", "abc"),
    ("NEXT", "next"),
    ("GLOBAL", "global"),
    ("テクノ", "techno"),
)
JP_CORE: tuple[tuple[str, str], ...] = (
    ("精機", "seiki"),
    ("商事", "shoji"),
    ("工業", "kogyo"),
    ("製作所", "seisakusho"),
    ("システムズ", "systems"),
    ("テクノロジー", "tech"),
    ("ソリューションズ", "solutions"),
    ("物産", "bussan"),
    ("電機", "denki"),
    ("化学", "kagaku"),
    ("建設", "kensetsu"),
    ("製薬", "seiyaku"),
    ("情報サービス", "is"),
    ("ロジスティクス", "logistics"),
)
EN_STEM: tuple[str, ...] = (
    "Acme",
    "Blue",
    "North",
    "Summit",
    "Pioneer",
    "Vertex",
    "Bright",
    "Silver",
    "Nova",
    "Apex",
    "Harbor",
    "Granite",
    "Cedar",
    "Orbit",
    "Quantum",
    "Evergreen",
)
EN_CORE: tuple[str, ...] = (
    "Systems",
    "Analytics",
    "Logistics",
    "Dynamics",
    "Software",
    "Industries",
    "Labs",
    "Networks",
    "Health",
    "Capital",
    "Robotics",
    "Foods",
)
EN_SUFFIX: tuple[str, ...] = ("Inc.", "Corp.", "Ltd.", "Co., Ltd.", "LLC")

INDUSTRIES: tuple[str, ...] = (
    "Manufacturing",
    "Software",
    "Financial Services",
    "Retail",
    "Healthcare",
    "Logistics",
    "Construction",
    "Education",
    "Media",
    "Public Sector",
)
# Ideal-customer fit per industry (the product sells to manufacturers and software firms).
INDUSTRY_FIT: tuple[float, ...] = (0.9, 0.8, 0.5, 0.1, 0.2, 0.4, -0.2, -0.5, -0.1, -0.6)

SIZE_BANDS: tuple[str, ...] = ("1-49", "50-249", "250-999", "1000-4999", "5000+")
SIZE_LOW: tuple[int, ...] = (1, 50, 250, 1000, 5000)
SIZE_HIGH: tuple[int, ...] = (49, 249, 999, 4999, 30000)
SIZE_FIT: tuple[float, ...] = (-0.8, 0.0, 0.6, 0.8, 0.4)

# Seniority levels: (japanese title, english title, fit weight).
SENIORITY: tuple[tuple[str, str, float], ...] = (
    ("担当", "Staff", -0.5),
    ("主任", "Specialist", -0.2),
    ("課長", "Manager", 0.4),
    ("部長", "Director", 0.9),
    ("本部長", "VP", 1.0),
    ("取締役", "Chief Officer", 0.6),
)
SENIORITY_P: tuple[float, ...] = (0.34, 0.2, 0.2, 0.14, 0.07, 0.05)

# Departments: (japanese, english, fit weight). Marketing and IT buy the product.
DEPARTMENTS: tuple[tuple[str, str, float], ...] = (
    ("マーケティング部", "Marketing", 0.8),
    ("営業部", "Sales", 0.4),
    ("情報システム部", "IT", 0.6),
    ("開発部", "Engineering", 0.1),
    ("人事部", "Human Resources", -0.6),
    ("経理部", "Finance", -0.4),
    ("総務部", "General Affairs", -0.3),
)

FREE_MAIL: tuple[str, ...] = ("gmail.com", "yahoo.co.jp", "outlook.com", "icloud.com")

SITE = "www.nurture-demo.example.com"
# Site pages: (path, kind). Careers pages are a negative signal for scoring.
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "home"),
    ("/product", "product"),
    ("/product/scoring", "product"),
    ("/product/integrations", "product"),
    ("/pricing", "pricing"),
    ("/case-studies/manufacturing", "case"),
    ("/case-studies/software", "case"),
    ("/blog/lead-nurturing-basics", "blog"),
    ("/blog/mql-definition", "blog"),
    ("/blog/email-fatigue", "blog"),
    ("/resources/whitepaper", "resource"),
    ("/webinars", "webinar"),
    ("/events", "event"),
    ("/contact", "contact"),
    ("/demo-request", "contact"),
    ("/careers", "careers"),
)

# Where companies sit, as a CRM records it: Japanese companies by city, others (city, country).
JP_CITIES: tuple[str, ...] = (
    "東京都",
    "大阪市",
    "名古屋市",
    "横浜市",
    "福岡市",
    "札幌市",
    "京都市",
)
INTL_CITIES: tuple[tuple[str, str], ...] = (
    ("San Francisco", "United States"),
    ("New York", "United States"),
    ("London", "United Kingdom"),
    ("Singapore", "Singapore"),
    ("Sydney", "Australia"),
    ("Berlin", "Germany"),
)
